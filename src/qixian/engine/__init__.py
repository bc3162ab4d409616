"""The engine: a case's events replayed into clocks (clocks.py), each clock's reminder steps (reminders.py),
recurring duties' periods (recurring.py), a rule file's examples run (examples.py), what the case system's
lines say of a case (caseinfo.py), and who is who and whom a reminder goes to (directory.py). Plain Python, like
legaltime and rulebook below it."""

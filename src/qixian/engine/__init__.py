"""The engine: a case's events replayed into clocks (clocks.py), each clock's reminder steps (reminders.py),
recurring duties' periods (recurring.py), a rule file's examples run (examples.py), and what the case system's
lines say of a case (caseinfo.py). Plain Python, like legaltime and rulebook below it."""

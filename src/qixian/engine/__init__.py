"""The engine: a case's events replayed into clocks (clocks.py) and each clock's reminder steps (reminders.py).
Plain Python, like legaltime below it."""

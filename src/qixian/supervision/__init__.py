"""Supervision: clocks and reminders as people read them (clockview.py) and the assessment reports (reports.py,
reportviews.py)."""

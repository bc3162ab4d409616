"""Alerting: what is owed (outbox.py), the message it becomes (messages.py), sending it within limits
(delivery.py, ratelimits.py) and one scan doing all three (scan.py)."""

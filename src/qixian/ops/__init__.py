"""Operations: where things are (config.py), whether Qixian is healthy (health.py), and the sealed audit log
(audit.py)."""

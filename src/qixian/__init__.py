"""Qixian (期限): legal-procedure deadline engine."""

"""The case store: cases, persons, the append-only event log, quarantine, derived clocks, the directory."""

"""Casework: events come in (feedlines.py parses a line, feeds.py reads a source and records it), clocks are
recomputed and stored (recompute.py), rule packs roll out (rollout.py); the directory says who is who."""

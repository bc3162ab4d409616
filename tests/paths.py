"""Where the tests find the repository, its shipped rule pack and the test rule files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
DATA = ROOT / "tests" / "data" / "rules"

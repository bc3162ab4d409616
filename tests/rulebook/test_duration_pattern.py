"""The rule files' editor schema and the loader agree on durations: every phrase `parse_duration` accepts, the
committed JSON schema's pattern accepts, and every phrase the pattern accepts, the parser reads."""

import json
from itertools import product
from pathlib import Path

import jsonschema
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qixian.legaltime.periods import HALF_MONTH_WORDS, UNIT_WORDS, DurationError, parse_duration

SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "schema" / "rules.schema.json"


def duration_schema() -> dict:
    """The schema of a rule's `limit` as the editor reads it from the committed file."""
    document = json.loads(SCHEMA.read_text(encoding="utf-8"))
    limit = document["$defs"]["RuleSpec"]["properties"]["limit"]["anyOf"][0]
    assert "pattern" in limit, limit
    return {"$schema": document["$schema"], **limit}


VALIDATOR = jsonschema.Draft202012Validator(duration_schema())


def parses(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


def schema_takes(text: str) -> bool:
    return VALIDATOR.is_valid(text)


NUMBERS = ["0", "3", "15", "１５", "٣", "一", "两", "十", "十五", "二十", "二十四", "九十九", "零", "三三", "十十", "百", "-1", "1.5", ""]
UNITS = [*UNIT_WORDS, *(w.upper() for w in UNIT_WORDS), *(w.title() for w in UNIT_WORDS), "weeks", "年", "日日", "DAYs", ""]
SPACES = ["", " ", "  ", "\t", "\u3000"]


@pytest.mark.parametrize("number", NUMBERS)
def test_every_number_and_unit_word_is_judged_alike(number):
    for unit, gap, edge in product(UNITS, SPACES, SPACES):
        text = f"{edge}{number}{gap}{unit}{edge}"
        assert parses(text) == schema_takes(text), f"parser {parses(text)}, schema {schema_takes(text)}: {text!r}"


@pytest.mark.parametrize("text", [*HALF_MONTH_WORDS, *(f" {w} " for w in HALF_MONTH_WORDS), "Half Month", "半个 月", "half  month", "半个月s"])
def test_half_a_month_is_judged_alike(text):
    assert parses(text) == schema_takes(text), text


def test_the_unit_words_and_half_a_month_are_all_accepted():
    for word in UNIT_WORDS:
        assert parses(f"3 {word}") and schema_takes(f"3 {word}"), word
        assert parses(f"3{word.upper()}") and schema_takes(f"3{word.upper()}"), word
    for words in HALF_MONTH_WORDS:
        assert parses(words) and schema_takes(words), words


ALPHABET = st.sampled_from([*"0123456789１٣一二两三十零百半个月日天小时分钟工作 \t\u3000\nhalfdaysminuteorkwHDM%-.", "half a month", *UNIT_WORDS])


@settings(max_examples=3000, deadline=None)
@given(st.lists(ALPHABET, max_size=6).map("".join))
@example("半个月")
@example(" 3\u3000days\n")
def test_any_text_is_judged_alike(text):
    assert parses(text) == schema_takes(text), f"parser {parses(text)}, schema {schema_takes(text)}: {text!r}"

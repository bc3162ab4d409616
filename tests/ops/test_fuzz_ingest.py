"""The event parser under attack: arbitrary text and bytes, huge lines, wrong encodings, SQL-like strings, NUL
characters, lone surrogates, deep nesting, non-finite numbers. Every line comes out accepted or quarantined with
a Chinese reason, nothing crashes, and the store holds exactly what the report says (on SQLite and PostgreSQL)."""

import codecs
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from qixian.casework.feedlines import Incoming, Rejected, check, read_lines
from qixian.casework.feeds import ingest_items, ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.database import upgrade
from qixian.store.repository import Store
from qixian.store.tables import EventRow, QuarantineRow
from tests.paths import RULES

PACK = load_pack(RULES)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STORE_FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CJK = re.compile(r"[\u4e00-\u9fff]")
NOW = parse_local("2025-10-01 10:00")

SQL = st.sampled_from(
    [
        "'); DROP TABLE events;--",
        "1' OR '1'='1",
        '"; DELETE FROM clocks; --',
        "%",
        "_",
        "\\",
        "$$; TRUNCATE quarantine; $$",
        "' UNION SELECT * FROM officers --",
        "NULL",
        "E'\\x00'",
    ]
)
NASTY_TEXT = st.one_of(st.text(max_size=30), SQL, st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff", "x" * 300, "", "𠀀", "\u202e", "\r", "\n", "\u2028"]))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), NASTY_TEXT)
NESTED = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3), max_leaves=8)
TIMES = st.one_of(
    st.sampled_from(
        ["2025-10-01 09:00", "2025-10-01 24:00", "9999-12-31 24:00", "0001-01-01 00:00", "2025-02-30 10:00", "2025-10-01T09:00+25:00", "1979-12-31 23:59"]
    ),
    NASTY_TEXT,
    st.integers(),
)


@st.composite
def event_objects(draw):
    """Mostly well-formed events with some fields swapped for hostile values."""
    item = {
        "id": draw(st.one_of(st.text(min_size=1, max_size=8), SQL, NESTED)),
        "case": draw(st.one_of(st.sampled_from(["（2025）城关刑字第0001号", "C-1"]), SQL, NESTED)),
        "type": draw(st.one_of(st.sampled_from(sorted(PACK.events)), NASTY_TEXT, NESTED)),
        "at": draw(TIMES),
        "person": draw(st.one_of(st.none(), st.just("张某"), NASTY_TEXT, NESTED)),
        "data": draw(st.one_of(st.just({}), st.dictionaries(st.sampled_from(["days", "approved_by", "remote"]), SCALAR, max_size=2), NESTED)),
        "case_info": draw(st.one_of(st.just({}), st.fixed_dictionaries({"kind": st.just("criminal"), "title": NASTY_TEXT}), NESTED)),
    }
    for key in draw(st.lists(st.sampled_from(sorted(item)), max_size=2, unique=True)):
        del item[key]
    if draw(st.booleans()):
        item[draw(NASTY_TEXT)] = draw(SCALAR)
    return item


def lines_of(text: str, fmt: str) -> int:
    """The lines the parser must answer for: non-blank ones (after the header, for CSV), counted here by hand."""
    if fmt == "csv":
        return sum(1 for line in text.splitlines()[1:] if line.strip())
    return sum(1 for line in text.split("\n") if line.strip())  # JSON Lines: one line per \n, nothing else


def parsed(text: str, fmt: str) -> list:
    return [check("fuzz." + fmt, n, raw, item, PACK.events) for n, raw, item in read_lines("fuzz." + fmt, text, fmt)]


def assert_answered(results: list) -> None:
    for result in results:
        if isinstance(result, Rejected):
            assert result.reason and CJK.search(result.reason), result
            assert "\x00" not in result.raw
            result.raw.encode("utf-8")  # storable as it is
        else:
            assert isinstance(result, Incoming) and result.type in PACK.events
            assert result.at.tzinfo is not None and 1980 <= result.at.year <= 2100
            for value in (result.id, result.case, result.person or ""):
                assert isinstance(value, str) and len(value) <= 200 and "\x00" not in value
                value.encode("utf-8")
            json.dumps([dict(result.data), dict(result.case_info)], allow_nan=False, ensure_ascii=False).encode("utf-8")


@FUZZ
@given(st.text(max_size=600), st.sampled_from(["jsonl", "csv"]))
def test_arbitrary_text_gets_an_answer_for_every_line(text, fmt):
    results = parsed(text, fmt)
    assert_answered(results)
    assert len(results) == lines_of(text, fmt)


@FUZZ
@given(st.lists(event_objects(), min_size=1, max_size=5), st.booleans())
def test_hostile_values_in_well_formed_lines(items, ascii_only):
    text = "\n".join(json.dumps(item, ensure_ascii=ascii_only, allow_nan=True) for item in items) + "\n"
    results = parsed(text, "jsonl")
    assert len(results) == len(items)
    assert_answered(results)


@FUZZ
@given(st.lists(st.lists(st.one_of(NASTY_TEXT, SQL), min_size=1, max_size=8), min_size=1, max_size=4))
def test_csv_rows_of_hostile_cells(rows):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "case", "type", "at", "person", "data", "case_info"][: max(len(r) for r in rows)])
    writer.writerows(rows)
    assert_answered(parsed(buffer.getvalue(), "csv"))


def test_deep_nesting_and_huge_lines_are_quarantined_with_a_reason():
    deep = "[" * 200_000 + "]" * 200_000
    huge = '{"id": "h1", "case": "' + "案" * 2_000_000 + '", "type": "detained", "at": "2025-10-01 09:00", "person": "张某"}'
    (first,), (second,) = parsed(deep + "\n", "jsonl"), parsed(huge + "\n", "jsonl")
    assert isinstance(first, Rejected) and "嵌套" in first.reason and first.raw == deep
    assert isinstance(second, Rejected) and "case 超过 200 个字符" in second.reason and second.raw == huge


def test_a_number_too_long_to_convert_is_quarantined_not_fatal():
    long_number = '{"id": "n1", "case": "C-1", "type": "detained", "at": "2025-10-01 09:00", "data": {"n": ' + "9" * 5000 + "}}"
    good = '{"id": "n2", "case": "C-1", "type": "detained", "at": "2025-10-01 09:00", "person": "张某"}'
    first, second = parsed(long_number + "\n" + good + "\n", "jsonl")
    assert isinstance(first, Rejected) and "无法处理的数值" in first.reason and first.raw == long_number
    assert not isinstance(second, Rejected)


HOSTILE_LINES = [
    '{"id": "s1", "case": "\'); DROP TABLE events;--", "type": "detained", "at": "2025-10-01 09:00", "person": "1\' OR \'1\'=\'1"}',
    '{"id": "s2", "case": "C-2", "type": "detained", "at": "2025-10-01 09:00", "person": "a\\u0000b"}',
    '{"id": "s3", "case": "C-3", "type": "detained", "at": "2025-10-01 09:00", "person": "\\ud800"}',
    '{"id": "s4", "case": "' + "x" * 201 + '", "type": "detained", "at": "2025-10-01 09:00", "person": "张某"}',
    '{"id": "' + "i" * 300 + '", "case": "C-5", "type": "nope", "at": "2025-10-01 09:00"}',
    '{"id": "s6", "case": "C-6", "type": "detained", "at": "0001-01-01 00:00", "person": "张某"}',
    '{"id": "s7", "case": "C-7", "type": "detained", "at": "9999-12-31 24:00", "person": "张某"}',
    '{"id": "s8", "case": "C-8", "type": "case_registered", "at": "2025-10-01 09:00", "case_info": {"title": NaN}}',
    "raw NUL \x00 inside the line",
    "[" * 100_000,
    '{"id": "s11", "case": "C-11", "type": "detained", "at": "2025-10-01 09:00", "person": "张某", '
    '"case_info": {"kind": "criminal", "title": "' + "长" * 1_000_000 + '"}}',
]


def test_hostile_lines_reach_the_store_whole_or_quarantined(store, tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(HOSTILE_LINES) + "\n", encoding="utf-8")
    tables = set(inspect(store.engine).get_table_names())
    report = ingest_path(store, PACK, path, source="fuzz", now=NOW)
    assert report.lines == len(HOSTILE_LINES)
    assert report.accepted + report.quarantined == len(HOSTILE_LINES)
    assert (store.count(EventRow), store.count(QuarantineRow)) == (report.accepted, report.quarantined)
    assert set(inspect(store.engine).get_table_names()) == tables  # the SQL-like strings stayed data
    with store.session() as session:
        events = {e.source_id: e for e in session.exec(select(EventRow)).scalars()}
        held = list(session.exec(select(QuarantineRow)).scalars())
    assert set(events) == {"s1"}
    assert events["s1"].case_id == "'); DROP TABLE events;--" and events["s1"].person == "1' OR '1'='1"
    assert all(row.reason and CJK.search(row.reason) for row in held)
    assert {row.line for row in held} == set(range(2, 12))
    [title] = [row for row in held if row.line == 11]  # a million-character title is a typing or export slip
    assert title.source_id == "s11" and "case_info.title 超过 500 个字符（1000000 个）" in title.reason


@pytest.fixture
def sqlite_store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzzdb')}/q.db"
    upgrade(url)
    store = Store.open(url)
    yield store
    store.engine.dispose()


@STORE_FUZZ
@given(st.lists(event_objects(), min_size=1, max_size=6))
def test_fuzzed_batches_leave_the_store_consistent(sqlite_store, items):
    results = parsed("\n".join(json.dumps(item, ensure_ascii=False, allow_nan=True) for item in items) + "\n", "jsonl")
    before = (sqlite_store.count(EventRow), sqlite_store.count(QuarantineRow))
    report = ingest_items(sqlite_store, PACK, results, source="fuzz", now=NOW)
    after = (sqlite_store.count(EventRow), sqlite_store.count(QuarantineRow))
    assert report.lines == len(results) == report.accepted + report.duplicate + report.quarantined
    assert after[0] - before[0] == report.accepted
    assert after[1] - before[1] <= report.quarantined  # the same bad line twice is kept once


@STORE_FUZZ
@given(st.binary(max_size=400), st.sampled_from(["gbk", "utf-16", "latin-1", None]))
def test_files_in_any_encoding_are_read_line_by_line_and_bad_lines_quarantined(sqlite_store, tmp_path_factory, data, encoding):
    if encoding:
        data = ('{"id": "e1", "case": "（2025）城关刑字第0001号", "type": "detained", "at": "2025-10-01 09:00", "person": "张某"}\n').encode(
            encoding, "replace"
        ) + data
    path = tmp_path_factory.mktemp("enc") / "events.jsonl"
    path.write_bytes(data)
    report = ingest_path(sqlite_store, PACK, path, source="fuzz-enc", now=NOW)
    assert report.lines == report.accepted + report.duplicate + report.quarantined
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        undecodable, readable = 0, 0  # each line on its own: only the bad ones held
        for line in data.removeprefix(codecs.BOM_UTF8).split(b"\n"):
            try:
                readable += bool(line.decode("utf-8").rstrip("\r").strip())
            except UnicodeDecodeError:
                undecodable += 1
        assert report.lines == undecodable + readable and report.quarantined >= undecodable > 0
        return
    assert report.lines == lines_of(text, "jsonl")


def test_an_id_repeated_with_other_content_in_the_same_file_is_quarantined(store, tmp_path):
    """Found by the fuzzing above: the second line used to count as accepted, and the file as three lines."""
    first = '{"id": "r1", "case": "C-1", "type": "detained", "at": "2025-10-01 09:00", "person": "张某"}'
    other = '{"id": "r1", "case": "C-1", "type": "detained", "at": "2025-10-01 10:00", "person": "张某"}'
    path = tmp_path / "repeat.jsonl"
    path.write_text(f"{first}\n{other}\n{first}\n", encoding="utf-8")
    report = ingest_path(store, PACK, path, source="fuzz", now=NOW)
    assert (report.lines, report.accepted, report.duplicate, report.quarantined) == (3, 1, 1, 1)
    with store.session() as session:
        (event,) = session.exec(select(EventRow)).scalars()
        (held,) = session.exec(select(QuarantineRow)).scalars()
    assert event.at == parse_local("2025-10-01 09:00") and held.line == 2 and "内容不同" in held.reason


BIDI_AND_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_bidi_and_control_characters_are_stripped_before_the_store(store, tmp_path):
    """Written as JSON escapes and as the characters themselves, in JSONL and CSV: none reaches the store (nor so the
    dashboard or a message); a tab or newline becomes a space."""
    info = {
        "kind": "criminal",
        "title": "盗窃\u202e案\x1b[31m\x07\n第二行",
        "unit": "城关\u2066派出所\u2069",
        "handler": "officer-1\u200f",
        "persons": {"张\u202d某": {"note": "a\tb\x85"}},
    }
    lines = [
        json.dumps({"id": "b1", "case": "C-B1", "type": "detained", "at": "2025-10-01 09:00", "person": "张\u202d某", "case_info": info}, ensure_ascii=True),
        json.dumps({"id": "b2", "case": "C-B2", "type": "detained", "at": "2025-10-01 09:00", "person": "李\u061c四", "case_info": info}, ensure_ascii=False),
    ]
    path = tmp_path / "bidi.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    csv_path = tmp_path / "bidi.csv"
    csv_path.write_text(
        'id,case,type,at,person,case_info\nb3,C-B3,detained,2025-10-01 09:00,王\u202e五,"' + json.dumps(info).replace('"', '""') + '"\n', encoding="utf-8"
    )  # (CSV lines end at NEL too)
    assert ingest_path(store, PACK, path, source="fuzz", now=NOW).accepted == 2
    assert ingest_path(store, PACK, csv_path, source="fuzz", now=NOW).accepted == 1
    with store.session() as session:
        events = list(session.exec(select(EventRow)).scalars())
    cases = [store.case(case) for case in ("C-B1", "C-B2", "C-B3")]
    assert sorted(e.person for e in events) == ["张某", "李四", "王五"]
    assert [c.title for c in cases] == ["盗窃案[31m 第二行"] * 3 and {c.unit for c in cases} == {"城关派出所"}
    stored = json.dumps([[e.person, e.data] for e in events] + [[c.title, c.unit, c.handler, c.facts] for c in cases], ensure_ascii=False)
    assert not BIDI_AND_CONTROLS.search(stored)


@pytest.mark.parametrize("field, cap", [("title", 500), ("unit", 100), ("handler", 100), ("kind", 40)])
def test_an_over_long_case_field_is_quarantined_naming_the_field_and_cap(field, cap):
    line = json.dumps(
        {"id": "L1", "case": "C-L", "type": "detained", "at": "2025-10-01 09:00", "person": "张某", "case_info": {field: "长" * (cap + 1)}}, ensure_ascii=False
    )
    [result] = parsed(line + "\n", "jsonl")
    assert isinstance(result, Rejected) and f"case_info.{field} 超过 {cap} 个字符（{cap + 1} 个）" in result.reason
    [fits] = parsed(line.replace("长" * (cap + 1), "长" * cap) + "\n", "jsonl")
    assert isinstance(fits, Incoming)


def test_over_long_names_and_values_are_quarantined():
    base = {"id": "L2", "case": "C-L", "type": "detained", "at": "2025-10-01 09:00", "person": "张某"}
    for extra, said in (
        ({"data": {"note": "x" * 2001}}, "data.note 超过 2000 个字符"),
        ({"case_info": {"persons": {"名" * 201: {}}}}, "case_info.persons 中的人员"),
        ({"case_info": {"persons": {"张某": {"住址": "x" * 2001}}}}, "case_info.persons.张某.住址 超过 2000"),
        ({"case_info": {"co_handlers": ["o" * 201]}}, "case_info.co_handlers 中的"),
        ({"case_info": {"remark": "x" * 2001}}, "case_info.remark 超过 2000"),
    ):
        [result] = parsed(json.dumps({**base, **extra}, ensure_ascii=False) + "\n", "jsonl")
        assert isinstance(result, Rejected) and said in result.reason, (extra.keys(), result)

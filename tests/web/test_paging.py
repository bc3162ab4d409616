"""The lists page through the whole store, on SQLite and PostgreSQL: a store built as bench/web.py builds it (open
clocks sharing dues, paused ones with and without a due, co-handled cases, anomalies, reminders) is walked by
following the pager's 下一页 links, and every page's clocks, in order, must be exactly what the rows say the viewer
may see under the filters (every open clock reachable, none twice, the order stable, the count right)."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import event, select

from bench.web import LEGAL, NOW, populate
from qixian.store.tables import CaseRow, ClockRow, OutboxRow
from qixian.supervision.clockview import light
from qixian.web.access import viewer_of
from qixian.web.auth import hash_password
from qixian.web.board import Board
from tests.fixtures.dashboard import PASSWORD, serving

OPEN_CLOCKS = 260  # six pages of 50
LEADER, OFFICER = "o00001", "o00005"  # o00001 leads u001; o00005 is an officer of u001 (units: 4)


@pytest.fixture
def big(store, pack):
    people = populate(store, pack, OPEN_CLOCKS, officers=12, units=4)
    hashed = hash_password(PASSWORD)
    for officer in (LEGAL, LEADER, OFFICER):
        store.set_password_hash(officer, hashed, NOW)
    with serving(store, pack, None) as served:
        served.clock.at = NOW
        yield served, people


def walk(client, path: str) -> tuple[list[int], list[str]]:
    """Follow 下一页 from `path` to the last page: (the clock ids of every page in order, the pager texts)."""
    ids, labels = [], []
    while path:
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        ids += [int(i) for i in re.findall(r'<li class="item [a-z]+" id="clock-(\d+)">', answer.text)]
        labels += [" ".join(re.sub(r"<[^>]+>", " ", p).split()) for p in re.findall(r'<nav class="pager".*?</nav>', answer.text, re.S)][:1]
        found = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', answer.text)
        path = unescape(found.group(1)) if found else None
    return ids, labels


def expected(store, pack, people, officer: str, keep=lambda clock, case: True) -> list[int]:
    """The open clocks `officer` may see that `keep` keeps, due first (ties by id), then those without a due."""
    viewer = viewer_of(people, officer)
    with store.session() as session:
        rows = session.execute(select(ClockRow, CaseRow).join(CaseRow, CaseRow.id == ClockRow.case_id).where(ClockRow.open.is_(True))).all()
    seen = [(c, k) for c, k in rows if viewer.sees(k) and keep(c, k)]
    seen.sort(key=lambda pair: (pair[0].due_at is None, pair[0].due_at or datetime.min.replace(tzinfo=UTC), pair[0].id))
    return [c.id for c, _ in seen]


def test_every_open_clock_is_on_exactly_one_page_in_order_with_the_count(big, store, pack):
    served, people = big
    for officer in (LEGAL, LEADER, OFFICER):
        client = served.login(officer)
        want = expected(store, pack, people, officer)
        ids, labels = walk(client, "/")
        assert ids == want, officer
        pages = -(-len(want) // 50)
        assert labels[0].startswith(f"上一页 第 1 页 / 共 {pages} 页 · 共 {len(want)} 条"), labels[0]
        assert len(labels) == pages
    assert len(expected(store, pack, people, LEGAL)) == OPEN_CLOCKS
    with store.session() as session:  # the store holds ties and clocks without a due: the order must settle both
        dues = [c.due_at for c in session.execute(select(ClockRow).where(ClockRow.open.is_(True))).scalars()]
    assert None in dues and len({d for d in dues if d}) < len([d for d in dues if d])


def test_filters_narrow_in_the_database_and_the_pager_keeps_them(big, store, pack):
    served, people = big
    client = served.login(LEGAL)
    group = pack.settings.groups[4]
    group_rules = {r.id for r in pack.rules if r.group == group}
    first, last = NOW.date() + timedelta(days=10), NOW.date() + timedelta(days=200)

    def in_window(clock):
        return clock.due_at is not None and first <= clock.due_at.astimezone(NOW.tzinfo).date() <= last

    with store.session() as session:  # a moment an hour before a due: that clock, at least, is in its warning window
        soon = sorted(c.due_at for c in session.execute(select(ClockRow).where(ClockRow.open.is_(True))).scalars() if c.due_at and c.due_at > NOW)[
            20
        ] - timedelta(hours=1)
    cases = {
        f"/?unit=u002&group={group}": lambda c, k: k.unit == "u002" and c.rule_id in group_rules,
        "/?officer=o00006": lambda c, k: k.handler == "o00006" or "o00006" in k.co_handlers,
        "/?light=grey": lambda c, k: light(c, NOW) == "grey",
        "/?light=orange": lambda c, k: light(c, soon) == "orange",
        "/?light=green&unit=u003": lambda c, k: light(c, NOW) == "green" and k.unit == "u003",
        f"/?from={first}&to={last}": lambda c, k: in_window(c),
        "/overdue?unit=u001": lambda c, k: light(c, NOW) == "red" and k.unit == "u001",
    }
    for path, keep in cases.items():
        served.clock.at = soon if "orange" in path else NOW  # (signing in afresh: the move ends older sessions)
        ids, _labels = walk(served.login(LEGAL), path)
        assert ids == expected(store, pack, people, LEGAL, keep), path
        assert ids, f"{path}: the store should hold such clocks"
    served.clock.at = NOW
    client = served.login(LEGAL)
    page2 = client.get(f"/?unit=u002&group={group}").text
    follow = re.search(r'<a href="([^"]+)" rel="next">', page2)
    if follow:
        assert "unit=u002" in follow.group(1) and "group=" in follow.group(1) and "page=2" in follow.group(1)
    # the leader of u001 may not filter by another unit, nor by an officer of it
    leader = served.login(LEADER)
    assert "不在您可查看的范围内" in leader.get("/?unit=u002").text
    assert leader.get("/?officer=o00002").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=%C2%B2",
        "page=1e9",
        "light=purple",
        "unit=%27%3B%20DROP%20TABLE%20clocks%3B--",
        "officer=nobody",
        "group=%3Cscript%3E",
        "from=2026-13-01",
        "from=2026-05-01&to=2026-04-01",
        "to=" + "9" * 5000,
    ],
)
def test_hostile_filter_values_get_a_chinese_message_not_a_500(big, query):
    served, _ = big
    answer = served.login(LEGAL).get("/?" + query)
    assert answer.status_code == 400, (query, answer.status_code)
    assert re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", answer.text.split("<main", 1)[-1]))
    assert "<script>" not in answer.text


def test_a_page_beyond_the_last_says_so_and_links_back(big):
    served, _ = big
    answer = served.login(LEGAL).get("/?page=99")
    assert answer.status_code == 200
    assert "没有符合条件的计时" in answer.text and "第 99 页 / 共 6 页" in answer.text and 'rel="prev"' in answer.text


def test_anomalies_and_my_reminders_page_through_everything(big, store):
    served, _people = big
    client = served.login(LEGAL)
    with store.session() as session:
        anomalous = [c for c in session.execute(select(ClockRow)).scalars() if c.anomalies]
        mine = session.execute(select(OutboxRow).where(OutboxRow.recipient == OFFICER)).scalars().all()
    html = client.get("/anomalies").text
    assert f"共 {len(anomalous)} 条" in html and len(anomalous) > 0
    assert html.count('<li class="item') == len(anomalous)  # one anomaly each, fewer than a page
    own = served.login(OFFICER).get("/reminders").text
    assert f"共 {len(mine)} 条" in own and own.count('id="reminder-') == len(mine)


def test_a_long_list_is_counted_only_so_far_past_the_page(big, store, pack, monkeypatch):
    """A province's list is counted up to COUNTED rows past the page shown, and says so (共 M 页以上); every clock is
    still reached by 下一页, in order, and the last pages count exactly."""
    from qixian.web import board

    monkeypatch.setattr(board, "COUNTED", 60)
    served, people = big
    client = served.login(LEGAL)
    first = client.get("/").text
    assert "第 1 页 / 共 3 页以上 · 共 110 条以上" in " ".join(re.sub(r"<[^>]+>", " ", first).split())
    ids, labels = walk(client, "/")
    assert ids == expected(store, pack, people, LEGAL)
    assert labels[-1].startswith(f"上一页 第 6 页 / 共 6 页 · 共 {OPEN_CLOCKS} 条"), labels[-1]
    assert "以上" not in labels[3]  # from page 4 on, the count reaches the end of the list


def test_the_anomalies_count_walks_the_anomaly_index(big, store, pack, monkeypatch):
    """The anomalies page counts its clocks up to the cap in the list's own order (latest due first, then id), so the
    database walks ix_clocks_anomalous backwards and stops at the cap: on PostgreSQL an index scan under the limit,
    not every anomalous clock read (and sorted) to be counted. The plan asked is that of the count the page sends."""
    from qixian.web import board

    monkeypatch.setattr(board, "COUNTED", 60)  # the cap well under the table's size, as at a province's (1,000 of millions)
    _served, people = big
    sent: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        page = Board(store, pack, people).anomalies(viewer_of(people, LEGAL), NOW)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    with store.session() as session:
        anomalous = sum(1 for c in session.execute(select(ClockRow)).scalars() if c.anomalies)
    assert (page.total, page.more) == (anomalous, False) and anomalous > 0  # the same count as before
    [(statement, parameters)] = [(s, p) for s, p in sent if "count(" in s.lower()]
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # the planner's statistics as autovacuum would leave them, now:
            connection.exec_driver_sql("ANALYZE clocks")  # without, a tiny table's plans tie and a background analyze decides
            connection.exec_driver_sql("SET enable_seqscan = off")  # a test table is tiny: ask whether the index can serve
            plan = " ".join(str(row) for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "Backward using ix_clocks_anomalous" in plan and "Sort" not in plan, plan
        else:
            plan = " ".join(str(row) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "ix_clocks_anomalous" in plan and "TEMP B-TREE" not in plan, plan

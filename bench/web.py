"""Dashboard and report figures at a province's size (goals from the issue): with 1,000,000 open clocks, 5,000
officers and 200 units, every dashboard page (list, overdue, anomalies, case, my reminders, reports) answers within
2x of the same page at 10,000 open clocks, on SQLite and on PostgreSQL (the reports page timed as served, from the
snapshot the refresh-report deployment keeps; the page counted live for want of a snapshot, and the refresh itself,
are printed for information); a monthly report over 1,000,000 clocks within 3x of one over 100,000. Prints each page's time at
every size and the ratios to the smallest, and the machine.
Every size is built first; then each page is asked of the stores in turn, ROUNDS times, and its time is the fastest.
This host's speed drifts by up to 2x over minutes (the same page, the same store: 83 ms, then 161 ms), so timing one
size after the other measured the drift as much as the store.
The report stores differ in history, not in the month's work: both hold 20,000 open clocks and clocks closed at 200
a day (6,000 a month) for as far back as their size takes (100,000 clocks: 13 months; 1,000,000: 13 years), so the
ratio says whether a report reads its period or the whole store.

Stores are built by bulk insert (bench.web.populate: units, officers, cases, open clocks with dues over a year, a
quarter as many closed clocks due in the last year, reminders), not by replaying a feed: what is measured is reading.

Run: .venv/bin/python bench/web.py [--sizes 10000,1000000] [--report-sizes 100000,1000000] [--postgres [URL]] [--small]
     (--small: 2,000 and 20,000 open clocks, reports over 40,000 and 200,000: a quick check of the shape)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import machine  # noqa: E402
from qixian.engine.directory import Directory, Officer, Unit  # noqa: E402
from qixian.legaltime.localtime import SHANGHAI, parse_local  # noqa: E402
from qixian.rulebook import load_pack  # noqa: E402
from qixian.store.database import upgrade  # noqa: E402
from qixian.store.repository import Store  # noqa: E402
from qixian.store.rows import Codec  # noqa: E402
from qixian.store.tables import CaseRow, ClockRow, CoHandlerRow, OutboxRow  # noqa: E402
from qixian.supervision.clockview import warning_at  # noqa: E402
from qixian.supervision.reports import Scope, day_start, report  # noqa: E402
from qixian.supervision.snapshots import refresh  # noqa: E402

NOW = parse_local("2026-03-16 10:00")
REPORT_OPEN, CLOSED_A_DAY = 20000, 200  # report stores: open clocks, and clocks closed a day over the years before NOW
LEGAL = "legal-1"
BUSY_CASES = 30  # populate's `busy` in the page stores: 60 open clocks and about 60 reminders, more than a page of each
_CASES = Codec(CaseRow.__table__, ("id", "kind", "title", "unit", "handler", "co_handlers", "facts", "updated_at"))
_CLOCKS = Codec(
    ClockRow.__table__,
    (
        "id",
        "case_id",
        "person",
        "rule_id",
        "number",
        "rule_version",
        "open",
        "outcome",
        "paused",
        "provisional",
        "started_at",
        "due_at",
        "due_display",
        "ended_at",
        "explanation",
        "anomalies",
        "updated_at",
        "unit",
        "warning_at",
    ),
)
_CO_HANDLERS = Codec(CoHandlerRow.__table__, ("case_id", "officer"))
_OUTBOX = Codec(
    OutboxRow.__table__,
    (
        "key",
        "clock_id",
        "case_id",
        "person",
        "rule_id",
        "step",
        "level",
        "label",
        "due_at",
        "step_at",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "channel",
        "late",
    ),
)


def directory(officers: int, units: int) -> Directory:
    """`units` police stations, `officers` spread over them (each station's first officer leads it), and one
    legal-affairs officer who sees everything."""
    unit_rows = {f"u{u:03d}": Unit(f"u{u:03d}", f"第{u + 1}派出所", f"o{u:05d}", None, None, {}) for u in range(units)}
    officer_rows = {f"o{o:05d}": Officer(f"o{o:05d}", f"民警{o + 1}号", f"u{o % units:03d}", None, (), (), {}) for o in range(officers)}
    officer_rows[LEGAL] = Officer(LEGAL, "法制员甲", None, None, (), ("legal_affairs",), {})
    return Directory(unit_rows, officer_rows)


def busy_officer(units: int) -> str:
    """The first unit's second officer (directory's numbering), who is not its leader."""
    return f"o{units:05d}"


def populate(
    store: Store,
    pack,
    open_clocks: int,
    *,
    officers: int = 5000,
    units: int = 200,
    closed: int | None = None,
    history_days: int = 365,
    now: datetime = NOW,
    seed: int = 1,
    busy: int = 0,
) -> Directory:
    """Fill an empty store: the directory, open_clocks open clocks (two a case; dues spread from a month before `now`
    to eleven months after, one in 13 sharing the due of the one before, 1 in 50 paused of which a fifth have no due, 1 in 100
    with an anomaly), `closed` closed clocks (default a quarter as many, due in the `history_days` before `now`, met or
    met late) and a reminder for one open clock in ten. Every case is handled by an officer of its unit, one in five
    co-handled by another. With `busy`, the first `busy` cases are busy_officer's (and no other case), each of their
    clocks with a reminder: an officer whose own list and reminders show the same rows whatever the size of the store (with
    5,000 officers, the busiest officer of a 10,000-clock store has a handful of clocks; of a 1,000,000-clock one,
    hundreds: their pages would differ in rows shown, not in the store read)."""
    closed = open_clocks // 4 if closed is None else closed
    people = directory(officers, units)
    store.replace_directory(people)
    rules = sorted({r.id for r in pack.rules})
    random_ = random.Random(seed)
    stamp = now.astimezone(UTC)
    total = open_clocks + closed
    keeper = busy_officer(units) if busy else None  # handles the first `busy` cases and no others
    by_unit = [[o for o in people.officers.values() if o.unit == u and o.id != keeper] for u in people.units]
    cases, clocks, outbox = [], [], []
    for index in range(0, total, 2):
        case_id = f"（2026）案字第{index // 2:07d}号"
        if keeper and index // 2 < busy:
            handler, co = keeper, []
        else:
            staff = by_unit[(index // 2) % len(by_unit)]
            handler = staff[random_.randrange(len(staff))].id
            co = [staff[(staff.index(people.officers[handler]) + 1) % len(staff)].id] if index % 10 == 0 and len(staff) > 1 else []
        cases.append((case_id, "criminal", f"案件{index // 2}", people.officers[handler].unit, handler, co, {}, stamp))
        for number in (index, index + 1):
            if number >= total:
                break
            is_open = number < open_clocks
            if is_open and number % 13 == 12 and clocks and clocks[-1][11] is not None:
                due = clocks[-1][11]  # the same due as the clock before: the order must settle ties
            elif is_open:
                due = stamp + timedelta(minutes=random_.randrange(-30 * 24 * 60, 335 * 24 * 60) // 10 * 10)
            else:
                due = stamp - timedelta(minutes=random_.randrange(1, history_days * 24 * 60))
            paused = is_open and number % 50 == 7
            if paused and number % 250 == 7:
                due = None
            started = (due or stamp) - timedelta(days=random_.randrange(1, 30))
            outcome = None if is_open else ("met" if number % 3 else "met_late")
            ended = None if is_open else (due - timedelta(hours=5) if outcome == "met" else due + timedelta(hours=7))
            anomalies = [{"kind": "late_extension", "message": "期满后才批准延长"}] if number % 100 == 3 else []
            rule_id = rules[number % len(rules)]
            warning = warning_at(pack, ClockRow(rule_id=rule_id, started_at=started, due_at=due)) if is_open else None
            clocks.append(
                (
                    number + 1,
                    case_id,
                    "",
                    rule_id,
                    1,
                    "",
                    is_open,
                    outcome,
                    paused,
                    False,
                    started,
                    due,
                    due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if due else None,
                    ended,
                    [],
                    anomalies,
                    stamp,
                    people.officers[handler].unit,
                    warning,
                )
            )
            if is_open and due is not None and (number % 10 == 1 or index // 2 < busy):
                step = min(due, stamp) - timedelta(hours=12)
                outbox.append(
                    (
                        f"{number + 1}:{due.timestamp():.0f}:0:{handler}",
                        number + 1,
                        case_id,
                        "",
                        rules[number % len(rules)],
                        0,
                        "notice",
                        "期满前 1 天",
                        due,
                        step,
                        handler,
                        "sent",
                        1,
                        step,
                        step,
                        step,
                        "json",
                        False,
                    )
                )
        if len(clocks) >= 20000:
            _write(store, cases, clocks, outbox)
            cases, clocks, outbox = [], [], []
    _write(store, cases, clocks, outbox)
    with store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT setval('clocks_id_seq', (SELECT max(id) FROM clocks))")
        connection.exec_driver_sql("ANALYZE")
    return people


def _write(store: Store, cases, clocks, outbox) -> None:
    if not cases:
        return
    with store.engine.begin() as connection:
        _CASES.insert(connection, [_CASES.encode(dict(zip(_CASES.columns, row, strict=False))) for row in cases])
        co = [(case[0], officer) for case in cases for officer in case[5]]
        if co:
            _CO_HANDLERS.insert(connection, co)
        _CLOCKS.insert(connection, [_CLOCKS.encode(dict(zip(_CLOCKS.columns, row, strict=False))) for row in clocks])
        if outbox:
            _OUTBOX.insert(connection, [_OUTBOX.encode(dict(zip(_OUTBOX.columns, row, strict=False))) for row in outbox])


# -- measuring ------------------------------------------------------------------------------------


# Not what a reader waits for: the page serves the snapshot, and these two are what it costs when there is none
UNSERVED = ("reports, live", "report refresh")
ROUNDS = 7  # each page is asked this many times of every store, the stores in turn; its time is the fastest


class Site:
    """The dashboard over one store, served in-process (FastAPI's test client: routing, queries, rendering), with
    legal affairs and `officer` (whose list and reminders are timed) signed in."""

    def __init__(self, store: Store, pack, officer: str) -> None:
        from fastapi.testclient import TestClient

        from qixian.web.app import create_app
        from qixian.web.auth import hash_password

        self.store, self.pack = store, pack
        self.handler = officer
        self.case_id = _a_case(store)
        hashed = hash_password("bench password 1")
        app = create_app(store, pack, secret=b"bench-secret-" + b"x" * 40, clock=lambda: NOW)
        self.clients = {}
        for officer in (LEGAL, self.handler):
            store.set_password_hash(officer, hashed, NOW)
            client = TestClient(app, follow_redirects=False)
            token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
            answer = client.post("/login", data={"officer": officer, "password": "bench password 1", "csrf": token, "next": "/"})
            assert answer.status_code == 303, answer.text[:300]
            self.clients[officer] = client
        refresh(store, pack, NOW)

    def rows_shown(self) -> dict[str, int]:
        """How many rows each page shows (the same at every size, for the ratio to compare like with like)."""
        shown = {}
        for name, (officer, path) in self.wanted().items():
            shown[name] = self.clients[officer].get(path).text.count('<li class="item ')
        return shown

    def wanted(self) -> dict[str, tuple[str, str]]:
        return {
            "list": (LEGAL, "/"),
            "list, unit filter": (LEGAL, "/?unit=u007"),
            "list, page 20": (LEGAL, "/?page=20"),
            "overdue": (LEGAL, "/overdue"),
            "anomalies": (LEGAL, "/anomalies"),
            "case": (LEGAL, f"/case?id={self.case_id}"),
            "my reminders": (self.handler, "/reminders"),
            "list as officer": (self.handler, "/"),
            "reports, snapshot": (LEGAL, "/reports"),  # the bureau's month to date, as refresh keeps it
            "reports, live": (LEGAL, "/reports"),  # no snapshot: counted on the request (and kept)
        }

    def seconds(self, name: str) -> float:
        """One request for page `name` (or, for "report refresh", what the refresh-report deployment does every
        five minutes), timed."""
        if name == "report refresh":
            begin = time.perf_counter()
            refresh(self.store, self.pack, NOW)
            return time.perf_counter() - begin
        if name == "reports, live":
            self.store.drop_report_snapshots(NOW + timedelta(days=1))  # every snapshot: the page counts
        officer, path = self.wanted()[name]
        begin = time.perf_counter()
        answer = self.clients[officer].get(path)
        took = time.perf_counter() - begin
        assert answer.status_code == 200, (name, answer.status_code, answer.text[:300])
        return took


def pages(sites: list[Site]) -> list[dict[str, float]]:
    """Milliseconds of each page on each site: the fastest of ROUNDS requests, the sites asked in turn, so that a
    machine that slows down for a while (a shared host does) slows every size alike and the ratios hold."""
    names = [*sites[0].wanted(), "report refresh"]
    found: list[dict[str, float]] = [{} for _ in sites]
    for name in names:
        times: list[list[float]] = [[] for _ in sites]
        for _ in range(3 if name in UNSERVED else ROUNDS):
            for index, site in enumerate(sites):
                times[index].append(site.seconds(name))
        for index in range(len(sites)):
            found[index][name] = min(times[index]) * 1000
    return found


def _a_case(store: Store) -> str:
    with store.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT case_id FROM outbox ORDER BY id LIMIT 1").scalar_one()


def monthly_reports(stores: list[Store], pack) -> list[float]:
    """Milliseconds of the bureau's report for the month before NOW's month on each store: the fastest of three, the
    stores asked in turn."""
    first = (NOW.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    start, end = day_start(first), day_start(NOW.date().replace(day=1))
    times: list[list[float]] = [[] for _ in stores]
    for _ in range(3):
        for index, store in enumerate(stores):
            begin = time.perf_counter()
            report(store, pack, start, end, NOW, Scope())
            times[index].append(time.perf_counter() - begin)
    return [min(each) * 1000 for each in times]


@contextmanager
def new_store(kind: str, folder: str, server: str, label: str):
    if kind == "sqlite":
        url = f"sqlite:///{folder}/{label}.db"
        upgrade(url)
        yield Store.open(url)
        return
    from bench.store import scratch_postgres

    with scratch_postgres(server) as url:
        upgrade(url)
        store = Store.open(url)
        yield store
        store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000", help="open clocks of each store the pages are timed on")
    parser.add_argument("--report-sizes", default="100000,1000000", help='clocks of each store the monthly report is timed on ("": none)')
    parser.add_argument("--officers", type=int, default=5000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--small", action="store_true", help="2,000 and 20,000 open clocks; reports over 40,000 and 200,000")
    parser.add_argument(
        "--postgres", metavar="URL", nargs="?", const="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL too (default server: the local one)"
    )
    parser.add_argument("--only-postgres", action="store_true", help="with --postgres: skip SQLite")
    args = parser.parse_args()
    sizes = [2000, 20000] if args.small else [int(s) for s in args.sizes.split(",")]
    report_sizes = [40000, 200000] if args.small else [int(s) for s in args.report_sizes.split(",") if s]
    pack = load_pack(ROOT / "rules")
    print(f"machine: {machine()}")
    kinds = ([] if args.only_postgres else ["sqlite"]) + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="qixian-bench-web-") as folder:
        for kind in kinds:
            with ExitStack() as stores:  # every size is built first, then the pages are timed on all of them in turn
                sites = []
                for size in sizes:
                    store = stores.enter_context(new_store(kind, folder, args.postgres or "", f"pages{size}"))
                    begin = time.perf_counter()
                    populate(store, pack, size, officers=args.officers, units=args.units, busy=BUSY_CASES)
                    print(
                        f"{kind}: {size:,} open clocks (+{size // 4:,} closed), {args.officers:,} officers, "
                        f"{args.units} units built in {time.perf_counter() - begin:.0f} s",
                        flush=True,
                    )
                    sites.append(Site(store, pack, busy_officer(args.units)))
                timings = dict(zip(sizes, pages(sites), strict=True))
                shown = [site.rows_shown() for site in sites]
            listed = [name for name in shown[0] if shown[0][name]]
            counts = ", ".join(f"{name} " + " / ".join(str(rows[name]) for rows in shown) for name in listed)
            print(f"{kind}: rows shown at " + " / ".join(f"{s:,}" for s in sizes) + f": {counts}")
            smallest = sizes[0]
            print(
                f"{kind}: page times in ms at " + " / ".join(f"{s:,}" for s in sizes) + " open clocks (the fastest of "
                f"{ROUNDS}, the stores asked in turn), and the ratio of the largest to {smallest:,} (goal: at most 2)"
            )
            for name in timings[smallest]:
                row = " / ".join(f"{timings[s][name]:.0f}" for s in sizes)
                ratio = timings[sizes[-1]][name] / timings[smallest][name]
                verdict = "(for information)" if name in UNSERVED else "met" if ratio <= 2 else "NOT met"
                print(f"  {name:18} {row:>24}   {ratio:4.1f}x {verdict}")
            if not report_sizes:  # --report-sizes "": the pages only
                continue
            with ExitStack() as stores:  # the same work each month, a longer history in the larger store
                built = []
                for size in report_sizes:
                    store = stores.enter_context(new_store(kind, folder, args.postgres or "", f"report{size}"))
                    populate(
                        store,
                        pack,
                        REPORT_OPEN,
                        closed=size - REPORT_OPEN,
                        officers=args.officers,
                        units=args.units,
                        history_days=round((size - REPORT_OPEN) / CLOSED_A_DAY),
                    )
                    built.append(store)
                reports = dict(zip(report_sizes, monthly_reports(built, pack), strict=True))
            ratio = reports[report_sizes[-1]] / reports[report_sizes[0]]
            print(
                f"{kind}: monthly report over "
                + " / ".join(f"{s:,}" for s in report_sizes)
                + " clocks: "
                + " / ".join(f"{reports[s]:.0f} ms" for s in report_sizes)
                + f", ratio {ratio:.1f}x (goal: at most 3) {'met' if ratio <= 3 else 'NOT met'}",
                flush=True,
            )


if __name__ == "__main__":
    main()

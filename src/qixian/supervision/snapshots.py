"""Assessment reports computed ahead. Counting a period's clocks for the reports page takes seconds at a province's
size, so the page reads a snapshot: the report of its view (period, unit, officer) as JSON in the store, computed
with the same rule pack and calendar (their hash) no longer ago than the page's freshness (`--report-fresh`,
default 10 minutes). The refresh-report deployment recomputes the views most pages open on (`warm_views`: the
bureau's month to date) every five minutes; any other view is counted live when asked and kept for the next reader.

A snapshot that cannot be read (another format, damaged) is as good as none: the report is counted again."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from qixian.casework import rollout
from qixian.faults import crash_point
from qixian.legaltime.localtime import SHANGHAI
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.supervision.reports import Finding, Report, Row, Scope, Tally, day_start, report

FORMAT = 1  # of the JSON; a snapshot of another format is recomputed
DEFAULT_FRESH = 10  # minutes a snapshot serves the page
KEPT = timedelta(days=1)  # refresh deletes snapshots older than this


class Unreadable(ValueError):
    """A snapshot's JSON that is not a report of this format."""


@dataclass(frozen=True)
class View:
    """What a report is for: the days from `first` to `last` (inclusive, Beijing time) and whose clocks."""

    first: date
    last: date
    scope: Scope = field(default_factory=Scope)

    @property
    def key(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}|unit={self.scope.unit or ''}|officer={self.scope.officer or ''}"

    def compute(self, store: Store, pack: RulePack, now: datetime) -> Report:
        return report(store, pack, day_start(self.first), day_start(self.last + timedelta(days=1)), now, self.scope)


def warm_views(now: datetime) -> list[View]:
    """The views refresh keeps warm: the bureau's month to date, which the reports page opens on."""
    today = now.astimezone(SHANGHAI).date()
    return [View(today.replace(day=1), today)]


def pack_hash(pack: RulePack) -> str:
    """The rule pack as the figures depend on it: its files (by name, wherever the pack's folder is) and the legal
    calendar (a new year's holidays change dues and so the report)."""
    files = rollout.pack_hash({name.rsplit("/", 1)[-1]: digest for name, digest in pack.files.items()})
    return hashlib.sha256(f"{files}\0{pack.calendar.digest()}".encode()).hexdigest()


# -- JSON -----------------------------------------------------------------------------------------

_GROUPINGS = ("by_type", "by_rule", "by_unit", "by_officer", "by_week", "by_basis")
_TALLY_FIELDS = tuple(f.name for f in fields(Tally))  # the counts, then the two lists of raw times
assert _TALLY_FIELDS[-2:] == ("to_completion", "ack_latency")


def _tally(tally: Tally) -> list:
    """A tally as one list, its fields in order: the counts, then the raw times (compact: a province's report has a
    row for each of thousands of officers)."""
    return [getattr(tally, name) for name in _TALLY_FIELDS]


def _rows(rows: list[Row]) -> list:
    return [[row.key, row.label, _tally(row.tally)] for row in rows]


def to_json(result: Report) -> str:
    """The whole report, every figure as computed (the raw times the medians come from included): from_json gives
    back a Report equal to it."""
    return json.dumps(
        {
            "format": FORMAT,
            "start": result.start.isoformat(),
            "end": result.end.isoformat(),
            "now": result.now.isoformat(),
            "scope": [result.scope.unit, result.scope.officer],
            "scope_label": result.scope_label,
            "total": _tally(result.total),
            **{name: _rows(getattr(result, name)) for name in _GROUPINGS},
            "paused": [list(item) for item in result.paused],
            "extensions": [list(item) for item in result.extensions],
            "anomalies": [[f.kind, f.case, f.rule, f.person, f.message] for f in result.anomalies],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


_INT, _FLOAT = {int}, {float}


def _read_tally(data: list) -> Tally:
    # checked by the types' set (map and set in C): a province's report has a tally for each of 5,000 officers
    if len(data) != len(_TALLY_FIELDS) or not set(map(type, data[:-2])) <= _INT:
        raise Unreadable("快照中的统计数不是整数")
    if not set(map(type, data[-2])) | set(map(type, data[-1])) <= _FLOAT:
        raise Unreadable("快照中的时长不是数值")
    return Tally(*data)


def _read_rows(items: list) -> list[Row]:
    return [Row(str(key), str(label), _read_tally(tally)) for key, label, tally in items]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise Unreadable(f"时间没有时区：{text}")
    return moment.astimezone(SHANGHAI)


def _finding(parts: list) -> Finding:
    kind, case, rule, person, message = parts
    return Finding(kind, case, rule, person, message)


def from_json(text: str) -> Report:
    """The report to_json wrote. Raises Unreadable for anything else (another format, damaged JSON)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise Unreadable(f"快照格式不是 {FORMAT}")
        unit, officer = data["scope"]
        return Report(
            start=_moment(data["start"]),
            end=_moment(data["end"]),
            now=_moment(data["now"]),
            scope=Scope(unit, officer),
            scope_label=str(data["scope_label"]),
            total=_read_tally(data["total"]),
            **{name: _read_rows(data[name]) for name in _GROUPINGS},
            paused=[(str(reason), float(hours), int(clocks)) for reason, hours, clocks in data["paused"]],
            extensions=[(str(event), int(count)) for event, count in data["extensions"]],
            anomalies=[_finding(finding) for finding in data["anomalies"]],
        )
    except Unreadable:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"快照无法读取（{type(exc).__name__}）") from None


# -- reading and writing --------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _parsed(body: str) -> Report:
    """The report of a snapshot's JSON, parsed once for the last 16 snapshots this process read, not on every request
    it serves (a province's month is 5,000 officers' tallies, 30 ms to parse; it changes every five minutes). Keyed
    by the whole text, so a snapshot rewritten in any way is parsed anew; an unreadable one raises and is not kept.
    The reports are shared by the requests: nothing changes a Report once made."""
    return from_json(body)


def fresh(store: Store, pack: RulePack, view: View, now: datetime, minutes: int = DEFAULT_FRESH) -> Report | None:
    """The view's snapshot if it was computed with this pack no more than `minutes` before `now` (and not after it:
    a report as of a later moment would count what has not happened yet at `now`); else None, as for one that
    cannot be read."""
    row = store.report_snapshot(view.key)
    if row is None or row.pack_hash != pack_hash(pack) or not timedelta(0) <= now - row.computed_at <= timedelta(minutes=minutes):
        return None
    try:
        return _parsed(row.body)
    except Unreadable:
        return None


def keep(store: Store, pack: RulePack, view: View, result: Report) -> None:
    store.keep_report_snapshot(view.key, pack_hash(pack), result.now, to_json(result))


def served(store: Store, pack: RulePack, view: View, now: datetime, minutes: int = DEFAULT_FRESH) -> tuple[Report, bool]:
    """The view's report for a page: its fresh snapshot, or (none) counted now and kept; and whether it came from
    the snapshot."""
    found = fresh(store, pack, view, now, minutes)
    if found is not None:
        return found, True
    result = view.compute(store, pack, now)
    keep(store, pack, view, result)
    return result, False


@dataclass
class Refreshed:
    views: list[str]
    dropped: int


def refresh(store: Store, pack: RulePack, now: datetime, views: list[View] | None = None) -> Refreshed:
    """Compute the warm views (or `views`) as of `now` and keep them; delete snapshots computed more than a day
    before `now`."""
    chosen = warm_views(now) if views is None else views
    for view in chosen:
        keep(store, pack, view, view.compute(store, pack, now))
    crash_point("report.kept")
    return Refreshed([view.key for view in chosen], store.drop_report_snapshots(now - KEPT))

"""Is Qixian healthy? Read from the case store and the rule pack folder only, never from Prefect, so the check
(and the dead-man's switch built on it) works when the scheduler itself is what stopped.

Each check has a stable English key (for --json and probes), a Chinese label and a status: ok, warning (ops
should look) or unhealthy (reminders are not going out, or dues are not certain)."""

from __future__ import annotations

import shlex
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from qixian.alerting.failures import Failure, failing
from qixian.casework import rollout
from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.localtime import SHANGHAI, display, span
from qixian.legaltime.yamlsource import ProblemsFound
from qixian.store.database import PRIVATE_FILE, PRIVATE_FOLDER, SIDE_FILES, database_url, sqlite_file
from qixian.store.repository import Store, StoreError
from qixian.store.signins import ADDRESS_FAILURES, OFFICER_EVERYWHERE, OFFICER_FAILURES
from qixian.store.tables import OutboxRow, OutboxStatus, QuarantineRow, ReplayMarkRow, ScanRunRow, SignInRow

if TYPE_CHECKING:
    from qixian.alerting.delivery import Told

OK, WARNING, UNHEALTHY = "ok", "warning", "unhealthy"
RANK = {OK: 0, WARNING: 1, UNHEALTHY: 2}
MISSED_SCANS = 3  # the dead-man's switch: this many scan intervals without a completed scan
RECENT = timedelta(hours=24)  # undeliverable reminders and catch-ups within this window are reported
REPLAY_GRACE = timedelta(minutes=10)  # a replay mark older than this is not an ingest at work: it was interrupted


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    status: str
    summary: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    now: datetime
    checks: tuple[Check, ...]

    @property
    def status(self) -> str:
        return max((c.status for c in self.checks), key=RANK.__getitem__, default=OK)

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "now": self.now.astimezone(SHANGHAI).isoformat(),
            "checks": {c.key: {"status": c.status, "summary": c.summary, **c.data} for c in self.checks},
        }


def check(db: str | None, rules: Path, now: datetime, interval: timedelta) -> Health:
    """Every check as of `now`; `interval` is how often the scan is scheduled."""
    checks: list[Check] = []
    try:
        store = Store.open(db)
        failures = failing(store, now)
        checks += [
            _scan(store, now, interval),
            _replay(store, now),
            _catch_up(store, now),
            _outbox(store, now, interval, failures),
            _channels(failures),
            _undeliverable(store, now),
            _quarantine(store),
            _sign_ins(store, now),
        ]
    except (StoreError, SQLAlchemyError) as exc:
        store = None
        said = _first_line(exc)  # a StoreError says what is wrong with the store already
        checks.append(Check("database", "案件库", UNHEALTHY, said if isinstance(exc, StoreError) else f"无法读取案件库：{said}"))
    checks.append(_permissions(db))
    checks.append(_calendar(rollout.folder_for(store, rules) if store is not None else rules, now))
    checks.append(_rules(store, rules))
    return Health(now, tuple(checks))


def _scan(store: Store, now: datetime, interval: timedelta) -> Check:
    with store.session() as session:
        last = session.execute(select(ScanRunRow).order_by(col(ScanRunRow.finished_at).desc()).limit(1)).scalars().first()
    limit = interval * MISSED_SCANS
    if last is None:
        return Check(
            "scan",
            "最近一次扫描",
            UNHEALTHY,
            "从未完成过扫描：检查 qixian serve 或 Prefect 工作进程",
            {"last_finished": None, "lag_seconds": None, "limit_seconds": int(limit.total_seconds())},
        )
    lag = now - last.finished_at
    data = {
        "last_finished": last.finished_at.astimezone(SHANGHAI).isoformat(),
        "lag_seconds": int(lag.total_seconds()),
        "limit_seconds": int(limit.total_seconds()),
        "sent": last.sent,
        "failed": last.failed,
        "undeliverable": last.undeliverable,
    }
    summary = f"{display(last.finished_at)} 完成，距今 {span(lag)}；发送 {last.sent}，稍后重试 {last.failed}"
    if lag > limit:
        return Check(
            "scan",
            "最近一次扫描",
            UNHEALTHY,
            f"已 {span(lag)} 没有完成扫描（超过 {MISSED_SCANS} 个扫描间隔）：提醒没有发出，检查 qixian serve 或 Prefect 工作进程",
            data,
        )
    return Check("scan", "最近一次扫描", OK, summary, data)


def _replay(store: Store, now: datetime) -> Check:
    """Cases whose clocks are older than their events (their replay marks): an ingest at work has some for a few
    seconds; marks that stay mean an ingest or recompute was interrupted and those dues may be wrong."""
    stale_before = (now - REPLAY_GRACE).astimezone(UTC)
    marks = col(ReplayMarkRow.marked_at)
    with store.session() as session:
        total, oldest = session.execute(select(func.count(), func.min(marks))).one()
        stale = session.execute(select(func.count()).where(marks < stale_before)).scalar_one()
        cases = list(
            session.execute(select(col(ReplayMarkRow.case_id)).where(marks < stale_before).order_by(marks, col(ReplayMarkRow.case_id)).limit(5)).scalars()
        )
    oldest = _aware(oldest)
    data = {"pending": total, "stale": stale, "oldest": oldest.astimezone(SHANGHAI).isoformat() if oldest else None, "cases": cases}
    if stale:
        assert oldest is not None, "there are stale marks, so the oldest mark's time was read"
        more = f" 等 {stale} 起" if stale > len(cases) else ""
        return Check(
            "replay",
            "计时重算",
            UNHEALTHY,
            f"{'、'.join(cases)}{more}案件的事件已导入、计时未按事件重算（最早 {display(oldest)}，导入或重算被中断）："
            "期满时间可能不对。下一次扫描或导入会先补算；立即修复：qixian recompute --pending",
            data,
        )
    if total:
        return Check("replay", "计时重算", OK, f"导入进行中：{total} 起案件的计时正在重算", data)
    return Check("replay", "计时重算", OK, "每起案件的计时都已按其全部事件重算", data)


def _catch_up(store: Store, now: datetime) -> Check:
    with store.session() as session:
        last = session.execute(select(ScanRunRow).where(col(ScanRunRow.caught_up) > 0).order_by(col(ScanRunRow.finished_at).desc()).limit(1)).scalars().first()
    if last is None or now - last.finished_at > RECENT:
        return Check("catch_up", "停机补发", OK, "最近 24 小时没有停机补发", {"count": 0, "clocks": []})
    clocks = [f"{c['case']} {c.get('rule_name') or c['rule']}{'（' + c['person'] + '）' if c.get('person') else ''} {c['step']}" for c in last.late[:5]]
    more = f" 等 {last.caught_up} 个" if last.caught_up > len(clocks) else ""
    return Check(
        "catch_up",
        "停机补发",
        WARNING,
        f"{display(last.as_of)} 的扫描补发了 {last.caught_up} 个计时（停机期间跨过提醒节点）：{'；'.join(clocks)}{more}",
        {"at": last.as_of.astimezone(SHANGHAI).isoformat(), "count": last.caught_up, "clocks": last.late},
    )


def _channels(failures: list[Failure]) -> Check:
    """Each kind of channel whose last attempt failed, with its reason, when, and what to do (qixian.alerting.failures)."""
    data = {"failing": [f.as_dict() for f in failures]}
    if failures:
        return Check("channels", "发送渠道", UNHEALTHY, "；".join(f.line() for f in failures), data)
    return Check("channels", "发送渠道", OK, "各渠道最近一次发送都成功（或最近 7 天没有发送）", data)


def _outbox(store: Store, now: datetime, interval: timedelta, failures: list[Failure]) -> Check:
    utc_now = now.astimezone(UTC)
    stuck_before = utc_now - interval * MISSED_SCANS
    status = col(OutboxRow.status)
    with store.session() as session:
        pending, oldest = session.execute(select(func.count(), func.min(col(OutboxRow.created_at))).where(status == OutboxStatus.PENDING)).one()
        stuck = session.execute(select(func.count()).where(status == OutboxStatus.PENDING, col(OutboxRow.next_attempt_at) < stuck_before)).scalar_one()
    oldest = _aware(oldest)
    data = {
        "pending": pending,
        "oldest_pending": oldest.astimezone(SHANGHAI).isoformat() if oldest else None,
        "oldest_age_seconds": int((now - oldest).total_seconds()) if oldest else None,
        "stuck": stuck,
    }
    if stuck:
        cause = "发送在运行，但渠道失败：见「发送渠道」检查" if failures else "发送没有在运行"
        return Check("outbox", "待发队列", UNHEALTHY, f"{stuck} 条提醒已到重试时间 {MISSED_SCANS} 个扫描间隔仍未发出（共待发 {pending} 条）：{cause}", data)
    if not pending:
        return Check("outbox", "待发队列", OK, "没有待发的提醒", data)
    assert oldest is not None, "there are pending reminders, so the oldest one's time was read"
    return Check(
        "outbox",
        "待发队列",
        OK,
        f"待发 {pending} 条（等待重试），最早的写入于 {display(oldest)}" + ("；渠道失败的原因见「发送渠道」检查" if failures else ""),
        data,
    )


def _undeliverable(store: Store, now: datetime) -> Check:
    since = (now - RECENT).astimezone(UTC)
    undeliverable = col(OutboxRow.status) == OutboxStatus.UNDELIVERABLE
    with store.session() as session:
        total = session.execute(select(func.count()).where(undeliverable)).scalar_one()
        recent = session.execute(select(func.count()).where(undeliverable, col(OutboxRow.next_attempt_at) >= since)).scalar_one()
    data = {"total": total, "last_24h": recent}
    if recent:
        return Check(
            "undeliverable",
            "无法送达",
            WARNING,
            f"最近 24 小时 {recent} 条提醒所有渠道都未送达（累计 {total}）：核对名录中的手机号、工作群地址和渠道配置",
            data,
        )
    return Check("undeliverable", "无法送达", OK, f"最近 24 小时没有（累计 {total}）", data)


def _quarantine(store: Store) -> Check:
    with store.session() as session:
        held = session.execute(select(func.count()).where(col(QuarantineRow.resolved_at).is_(None))).scalar_one()
    if held:
        return Check("quarantine", "隔离区", WARNING, f"{held} 个事件无法采用：qixian quarantine list 查看原因，改正后 qixian quarantine retry", {"size": held})
    return Check("quarantine", "隔离区", OK, "没有待处理的事件", {"size": 0})


def _sign_ins(store: Store, now: datetime) -> Check:
    """Failed dashboard sign-ins of the last 24 hours; an officer id or address with as many as pause signing in
    is worth a look (someone guessing passwords, or an officer locked out)."""
    since = (now - RECENT).astimezone(UTC)
    officer, client = col(SignInRow.officer), col(SignInRow.client)
    failed = col(SignInRow.ok).is_(False), col(SignInRow.at) >= since
    with store.session() as session:
        total = session.execute(select(func.count()).where(*failed)).scalar_one()
        ids = sorted(
            set(session.execute(select(officer).where(*failed).group_by(officer, client).having(func.count() >= OFFICER_FAILURES)).scalars())
            | set(session.execute(select(officer).where(*failed).group_by(officer).having(func.count() >= OFFICER_EVERYWHERE)).scalars())
        )
        addresses = sorted(session.execute(select(client).where(*failed).group_by(client).having(func.count() >= ADDRESS_FAILURES)).scalars())
    data = {"failed_24h": total, "officers": ids, "addresses": addresses}
    if ids or addresses:
        named = "、".join(ids[:5] + addresses[:5]) + (" 等" if len(ids) > 5 or len(addresses) > 5 else "")
        return Check(
            "sign_ins", "看板登录", WARNING, f"最近 24 小时 {named} 登录失败达到暂停次数（共失败 {total} 次）：核实是否有人猜密码，或为忘记密码的民警重设", data
        )
    return Check("sign_ins", "看板登录", OK, f"最近 24 小时登录失败 {total} 次", data)


def _permissions(db: str | None) -> Check:
    """A SQLite store's folder and files must be the owner's only (0700, 0600): they hold password hashes, phone
    numbers and suspects' names. Names each one others may read or write, with the chmod that fixes it."""
    path = sqlite_file(database_url(db))
    if path is None:
        return Check("permissions", "文件权限", OK, "案件库不是本机文件：由数据库服务器控制访问", {"loose": []})
    wanted = [(path.parent, PRIVATE_FOLDER)] + [(Path(f"{path}{side}"), PRIVATE_FILE) for side in ("", *SIDE_FILES)]
    loose: list[dict[str, str]] = []
    fixes: dict[int, list[str]] = {}
    for each, mode in wanted:
        try:
            actual = stat.S_IMODE(each.stat().st_mode)
        except FileNotFoundError:
            continue
        if actual & 0o077:
            loose.append({"path": str(each), "mode": f"{actual:o}", "fix": f"chmod {mode:o} {shlex.quote(str(each))}"})
            fixes.setdefault(mode, []).append(shlex.quote(str(each)))
    if not loose:
        return Check("permissions", "文件权限", OK, f"案件库 {path} 仅所有者可读写", {"loose": []})
    commands = "；".join(f"chmod {mode:o} {' '.join(paths)}" for mode, paths in fixes.items())
    return Check(
        "permissions",
        "文件权限",
        WARNING,
        "本机其他用户可访问案件库（含密码哈希、手机号、嫌疑人姓名）：" + "、".join(f"{f['path']}（{f['mode']}）" for f in loose) + f"。运行 {commands}",
        {"loose": loose},
    )


def _calendar(rules: Path, now: datetime) -> Check:
    """The current year must be covered; from 1 December, next year's file should be there too."""
    local = now.astimezone(SHANGHAI)
    try:
        calendar = LegalCalendar.load(Path(rules) / "calendar")
    except ProblemsFound as found:
        return Check("calendar", "节假日日历", UNHEALTHY, f"日历文件有误：{found.problems[0]}", {"years": []})
    data = {"years": list(calendar.years), "this_year": calendar.covers(local.year), "next_year": calendar.covers(local.year + 1)}
    if not calendar.covers(local.year):
        return Check(
            "calendar",
            "节假日日历",
            UNHEALTHY,
            f"缺少 {local.year} 年的日历 rules/calendar/{local.year}.yaml：期满时间只是临时结果。{adding_a_year(local.year)}",
            data,
        )
    if local.month == 12 and not calendar.covers(local.year + 1):
        return Check(
            "calendar", "节假日日历", WARNING, f"缺少 {local.year + 1} 年的日历 rules/calendar/{local.year + 1}.yaml。{adding_a_year(local.year + 1)}", data
        )
    return Check("calendar", "节假日日历", OK, f"已收录 {calendar.years[0]}–{calendar.years[-1]} 年", data)


def adding_a_year(year: int) -> str:
    """What legal-affairs staff do once the State Council publishes `year`'s arrangement."""
    return (
        f"国务院办公厅公布《关于{year}年部分节假日安排的通知》后：把通知正文（含标题）粘贴存为 notice.txt，"
        f"运行 qixian calendar import notice.txt 生成 rules/calendar/{year}.yaml，对照原文核对；"
        "再运行 qixian rules check rules 和 qixian recompute --dry-run 查看哪些期满时间会变，"
        "最后 qixian rules rollout --by 姓名 上线"
    )


def _rules(store: Store | None, rules: Path) -> Check:
    """The pack in force (the last roll-out's kept files) and whether the configured folder holds another one."""
    current = rollout.pack_hash(rollout.pack_files(rules))
    data: dict[str, Any] = {"directory": str(rules), "pack_hash": current, "rolled_out": None, "kept": False}
    try:
        last = rollout.in_force(store) if store is not None else None
    except SQLAlchemyError:
        last = None
    if last is None:
        return Check("rules", "规则包", WARNING, f"规则包 {current[:12]} 没有上线记录：用 qixian rules rollout --by 姓名 上线并记录", data)
    row = last.row
    data["rolled_out"] = {"pack_hash": row.pack_hash, "by": row.by, "at": row.at.astimezone(SHANGHAI).isoformat(), "moved": len(row.moved)}
    data["kept"] = last.folder is not None
    if last.folder is None:
        return Check(
            "rules",
            "规则包",
            WARNING,
            f"上线记录 {rollout.shown(row)} 没有保存规则包文件（本版本之前上线的），各命令仍按 {rules}（{current[:12]}）"
            f"计算：用 qixian rules rollout --rules 在用的规则包目录 重新上线一次",
            data,
        )
    if row.pack_hash != current:
        return Check(
            "rules",
            "规则包",
            WARNING,
            f"在用 {rollout.shown(row)}；{rules} 中的文件（{current[:12]}）与它不同，是尚未上线的修改："
            f"扫描、看板、报表、导入仍按在用的规则包，上线用 qixian rules rollout --rules {rules}",
            data,
        )
    return Check("rules", "规则包", OK, f"{rollout.shown(row)}", data)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def alert(health: Health, config, send=None) -> list[Told]:
    """Tell ops, on every channel in notify/channels.yaml `ops:`, what is unhealthy (nothing is sent when healthy).
    Uses the same channel plugins as the reminders, but neither the scan nor the outbox."""
    from qixian.alerting.delivery import tell

    failing = [c for c in health.checks if c.status == UNHEALTHY]
    if not failing:
        return []
    title = "期限系统异常：提醒可能没有发出"
    body = f"{display(health.now)} 检查发现：\n" + "\n".join(f"- {c.label}：{c.summary}" for c in failing) + "\n请运行 qixian health 查看详情。"
    return tell(config.ops, title, body, config.plugins, send)

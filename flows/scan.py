"""The scan flow (every minute in production): owe the reminders whose time has come, deliver them, record the run.
Thin on purpose: its one task is qixian.alerting.scan.scan, the library's own scan. Safe to run twice, late or
concurrently."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger, task

from flows import scheduled_start
from qixian.alerting.failures import failing
from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import listed
from qixian.alerting.scan import scan as scan_now
from qixian.casework.rollout import pack_in_force
from qixian.legaltime.localtime import SHANGHAI, parse_local
from qixian.ops.config import database_url, rules_dir
from qixian.store.repository import Store


@task(retries=2, retry_delay_seconds=20)
def scan_once(db: str, rules: str | None, notify: str | None, now: datetime) -> dict:
    """One scan as of `now` (owing is idempotent and a row is marked sent only once a channel took it, so a retry is
    safe): what was owed and sent, and why sending failed."""
    store = Store.open(db)
    pack = pack_in_force(store, rules_dir(rules))
    report = scan_now(store, pack, NotifyConfig.load(notify), now)
    scanned, delivered = report.scanned, report.delivered
    failures = failing(store, now) if delivered.failed or delivered.undeliverable else []
    return {
        "clocks": scanned.clocks,
        "owed": len(scanned.owed),
        "digests": scanned.digests,
        "caught_up": scanned.caught_up,
        "replayed": scanned.replayed,
        "late": listed(scanned.late, pack),
        "problems": scanned.problems[:50],
        "messages": len(delivered.messages),
        "sent": delivered.sent,
        "failed": delivered.failed,
        "undeliverable": delivered.undeliverable,
        "deferred": delivered.deferred,
        "attempts": delivered.attempts,
        "failures": [f.line() for f in failures],
    }


def _run_name() -> str:
    from prefect.runtime import flow_run

    as_of = flow_run.parameters.get("as_of")
    return f"scan {as_of or scheduled_start().strftime('%Y-%m-%d %H:%M')}"


@flow(name="qixian-scan", flow_run_name=_run_name)
def scan(db: str | None = None, rules: str | None = None, notify: str | None = None, as_of: str | None = None) -> dict:
    """One scan as of `as_of` (default: now): owe, deliver, record."""
    now = parse_local(as_of) if as_of else datetime.now(SHANGHAI)
    done = scan_once(database_url(db), rules, notify, now)
    logger = get_run_logger()
    logger.info(
        "扫描 %s：%d 个计时到点，%d 条提醒；发送 %d 条消息，稍后重试 %d，达到发送上限顺延 %d，无法送达 %d",
        now.strftime("%Y-%m-%d %H:%M"),
        done["clocks"],
        done["owed"],
        done["sent"],
        done["failed"],
        done["deferred"],
        done["undeliverable"],
    )
    if done["replayed"]:
        logger.warning("先补算了 %d 起案件的计时：事件已导入、计时尚未重算（上一次导入或重算被中断）", done["replayed"])
    if done["caught_up"]:
        logger.warning("停机补发：%d 个计时在无人扫描时跨过了提醒节点（qixian health 列出）", done["caught_up"])
    for failure in done["failures"]:
        logger.warning("%s", failure)
    if done["digests"]:
        logger.info("每日超期汇总：%d 人", done["digests"])
    for problem in done["problems"]:
        logger.warning("名录问题：%s", problem)
    return done

"""The scan flow (every minute in production): owe the reminders whose time has come, then deliver them.
Thin on purpose: each task is one step of qixian.alerting.scan (owe, deliver, record_run). Safe to run twice, late
or concurrently."""

from __future__ import annotations

import time
from datetime import datetime

from prefect import flow, get_run_logger, task

from flows import scheduled_start
from qixian.alerting.delivery import deliver
from qixian.alerting.failures import failing
from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import listed, owe as owe_now, record_run
from qixian.casework.rollout import pack_in_force
from qixian.legaltime.localtime import SHANGHAI, parse_local
from qixian.ops.config import database_url, rules_dir
from qixian.store.repository import Store


@task
def owe(db: str, rules: str | None, now: datetime) -> dict:
    """Write the reminders owed as of `now` to the outbox, advancing each clock (one transaction)."""
    scanned = owe_now(store := Store.open(db), pack := pack_in_force(store, rules_dir(rules)), now)
    return {"clocks": scanned.clocks, "owed": len(scanned.owed), "digests": scanned.digests, "caught_up": scanned.caught_up, "replayed": scanned.replayed,
            "late": listed(scanned.late, pack), "problems": scanned.problems[:50]}


@task(retries=2, retry_delay_seconds=20)
def send(db: str, rules: str | None, notify: str | None, now: datetime) -> dict:
    """Send what the outbox owes (each attempt recorded; nothing marked sent that was not)."""
    delivered = deliver(store := Store.open(db), pack_in_force(store, rules_dir(rules)), NotifyConfig.load(notify), now)
    failures = failing(store, now) if delivered.failed or delivered.undeliverable else []
    return {"messages": len(delivered.messages), "sent": delivered.sent, "failed": delivered.failed,
            "undeliverable": delivered.undeliverable, "deferred": delivered.deferred, "attempts": delivered.attempts,
            "failures": [f.line() for f in failures]}


@task
def finish(db: str, now: datetime, took_seconds: float, owed: dict, sent: dict) -> None:
    """Record the completed scan for `qixian health` (and the dead-man's switch that watches for it)."""
    record_run(Store.open(db), now, took_seconds, clocks=owed["clocks"], owed=owed["owed"], sent=sent["sent"],
               failed=sent["failed"], undeliverable=sent["undeliverable"], caught_up=owed["caught_up"], late=owed["late"])


def _run_name() -> str:
    from prefect.runtime import flow_run

    as_of = flow_run.parameters.get("as_of")
    return f"scan {as_of or scheduled_start().strftime('%Y-%m-%d %H:%M')}"


@flow(name="qixian-scan", flow_run_name=_run_name)
def scan(db: str | None = None, rules: str | None = None, notify: str | None = None, as_of: str | None = None) -> dict:
    """One scan as of `as_of` (default: now): owe, then deliver."""
    started = time.time()
    now = parse_local(as_of) if as_of else datetime.now(SHANGHAI)
    url = database_url(db)
    owed = owe(url, rules, now)
    sent = send(url, rules, notify, now)
    finish(url, now, time.time() - started, owed, sent)
    logger = get_run_logger()
    logger.info("扫描 %s：%d 个计时到点，%d 条提醒；发送 %d 条消息，稍后重试 %d，达到发送上限顺延 %d，无法送达 %d",
                now.strftime("%Y-%m-%d %H:%M"), owed["clocks"], owed["owed"], sent["sent"], sent["failed"], sent["deferred"],
                sent["undeliverable"])
    if owed["replayed"]:
        logger.warning("先补算了 %d 起案件的计时：事件已导入、计时尚未重算（上一次导入或重算被中断）", owed["replayed"])
    if owed["caught_up"]:
        logger.warning("停机补发：%d 个计时在无人扫描时跨过了提醒节点（qixian health 列出）", owed["caught_up"])
    for failure in sent["failures"]:
        logger.warning("%s", failure)
    if owed["digests"]:
        logger.info("每日超期汇总：%d 人", owed["digests"])
    for problem in owed["problems"]:
        logger.warning("名录问题：%s", problem)
    return {**owed, **sent}

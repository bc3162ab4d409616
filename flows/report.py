"""Scheduled assessment reports (daily, weekly, monthly): the bureau's report as Prefect table and markdown
artifacts, and each unit leader a short summary of the unit through the reminders' channels and delivery log.
The daily report also sends ops (and the audit channels) the delivery log's checkpoint, kept outside the database.
Thin on purpose: the figures are qixian.supervision.reports, the words qixian.supervision.reportviews, the periods
and the leaders' summaries qixian.supervision.summaries, the checkpoint qixian.ops.audit. Safe to run twice: a
summary already delivered for the same period is not sent again.

qixian-report-refresh (every five minutes) keeps the dashboard's reports page fast: it recomputes the report
snapshots the page reads (qixian.supervision.snapshots.refresh)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows import scheduled_start
from qixian.alerting.messages import NotifyConfig
from qixian.casework.rollout import pack_in_force
from qixian.legaltime.localtime import SHANGHAI, parse_local
from qixian.ops import audit
from qixian.ops.config import database_url, rules_dir
from qixian.store.repository import Store
from qixian.supervision.reports import day_start, report
from qixian.supervision.reportviews import MEASURES, as_markdown, period_label
from qixian.supervision.snapshots import refresh
from qixian.supervision.summaries import TITLES, period
from qixian.supervision.summaries import tell_leaders as tell_unit_leaders


@task
def bureau_report(db: str, rules: str | None, kind: str, first: date, until: date, now: datetime) -> dict:
    """The whole bureau's report, kept as a table artifact (units ranked) and a markdown artifact."""
    result = report(store := Store.open(db), pack_in_force(store, rules_dir(rules)), day_start(first), day_start(until), now)
    rows = [{"单位": row.label, **{label: values[name] for name, label in MEASURES}} for row in result.by_unit for values in [row.tally.as_dict()]]
    key = f"qixian-report-{kind}"
    create_table_artifact(rows, key=key + "-units", description=f"各单位期限考核（{period_label(result)}，超期率排名）")
    create_markdown_artifact(as_markdown(result), key=key, description=f"期限考核{TITLES[kind]} {period_label(result)}")
    return result.total.as_dict()


@task(retries=2, retry_delay_seconds=30)
def tell_leaders(db: str, rules: str | None, notify: str | None, kind: str, first: date, until: date, now: datetime) -> dict:
    """Each unit leader: the unit's summary, once per period (the key names kind, period and leader)."""
    store = Store.open(db)
    pack, config = pack_in_force(store, rules_dir(rules)), NotifyConfig.load(notify)
    sent, failed = tell_unit_leaders(store, pack, config, kind, first, until, now)
    return {"sent": sent, "failed": failed}


@task
def send_checkpoint(db: str, notify: str | None, now: datetime) -> dict:
    """The delivery log verified with the audit key, and its checkpoint (or where it breaks) sent to ops."""
    key = audit.signing_key()
    if key is None:
        return {"checkpoint": None, "problem": audit.NO_KEY + "：没有签发检查点", "told": 0}
    verified, point = audit.checkpoint(Store.open(db), key, now)
    told = audit.send_checkpoint(verified, point, NotifyConfig.load(notify))
    return {
        "checkpoint": point.line if point else None,
        "told": sum(t.ok for t in told),
        "problem": audit.described(verified.broken) if verified.broken else None,
    }


def _run_name() -> str:
    from prefect.runtime import flow_run

    return f"{flow_run.flow_name} {flow_run.parameters.get('as_of') or scheduled_start().strftime('%Y-%m-%d')}"


def _assess(kind: str, db: str | None, rules: str | None, notify: str | None, as_of: str | None) -> dict:
    now = parse_local(as_of) if as_of else datetime.now(SHANGHAI)
    first, until = period(kind, now.date())
    url = database_url(db)
    total = bureau_report(url, rules, kind, first, until, now)
    told = tell_leaders(url, rules, notify, kind, first, until, now)
    logger = get_run_logger()
    logger.info(
        "期限考核%s %s 至 %s：应办结 %d，超期完成 %d，当前超期 %d；已告知 %d 位单位负责人",
        TITLES[kind],
        first,
        until - timedelta(days=1),
        total["assessed"],
        total["met_late"],
        total["overdue"],
        told["sent"],
    )
    for unit in told["failed"]:
        logger.warning("单位 %s 的负责人没有收到考核摘要（渠道均失败，见发送记录）", unit)
    result = {"from": first.isoformat(), "to": until.isoformat(), **total, "leaders_told": told["sent"], "leaders_failed": told["failed"]}
    if kind == "daily":
        kept = send_checkpoint(url, notify, now)
        if kept["problem"]:
            logger.error("发送记录：%s", kept["problem"])
        if kept["checkpoint"] and not kept["told"]:
            logger.warning("发送记录检查点没有送达运维（notify/channels.yaml 的 ops、audit 渠道）：%s", kept["checkpoint"])
        result["audit_checkpoint"] = kept["checkpoint"]
    return result


@flow(name="qixian-report-daily", flow_run_name=_run_name)
def daily_report(db: str | None = None, rules: str | None = None, notify: str | None = None, as_of: str | None = None) -> dict:
    """Yesterday's assessment (as of `as_of`, default now)."""
    return _assess("daily", db, rules, notify, as_of)


@flow(name="qixian-report-weekly", flow_run_name=_run_name)
def weekly_report(db: str | None = None, rules: str | None = None, notify: str | None = None, as_of: str | None = None) -> dict:
    """Last week's assessment, Monday to Sunday."""
    return _assess("weekly", db, rules, notify, as_of)


@flow(name="qixian-report-monthly", flow_run_name=_run_name)
def monthly_report(db: str | None = None, rules: str | None = None, notify: str | None = None, as_of: str | None = None) -> dict:
    """Last calendar month's assessment."""
    return _assess("monthly", db, rules, notify, as_of)


@task
def refresh_snapshots(db: str, rules: str | None, now: datetime) -> dict:
    """The warm views' report snapshots computed as of `now` and kept; snapshots older than a day deleted."""
    store = Store.open(db)
    done = refresh(store, pack_in_force(store, rules_dir(rules)), now)
    return {"views": done.views, "dropped": done.dropped}


def _refresh_run_name() -> str:
    from prefect.runtime import flow_run

    return f"report-refresh {flow_run.parameters.get('as_of') or scheduled_start().strftime('%Y-%m-%d %H:%M')}"


@flow(name="qixian-report-refresh", flow_run_name=_refresh_run_name)
def refresh_report(db: str | None = None, rules: str | None = None, as_of: str | None = None) -> dict:
    """The report snapshots the dashboard's reports page reads, recomputed as of `as_of` (default now)."""
    now = parse_local(as_of) if as_of else datetime.now(SHANGHAI)
    done = refresh_snapshots(database_url(db), rules, now)
    get_run_logger().info("考核报表快照已更新（%s）：%s；删除一天前的快照 %d 份", now.strftime("%Y-%m-%d %H:%M"), "、".join(done["views"]), done["dropped"])
    return done

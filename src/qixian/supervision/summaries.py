"""Scheduled assessments: the period a daily, weekly or monthly report covers, and each unit leader told the unit's
summary once per period, through the reminders' channels and delivery log."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from qixian.alerting.delivery import send_note
from qixian.alerting.messages import NotifyConfig
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.supervision.reports import Scope, day_start, report
from qixian.supervision.reportviews import summary_text

TITLES = {"daily": "日报", "weekly": "周报", "monthly": "月报"}


def period(kind: str, today: date) -> tuple[date, date]:
    """The last whole day, week (Monday to Sunday) or calendar month before `today`: [first day, day after last)."""
    if kind == "daily":
        return today - timedelta(days=1), today
    if kind == "weekly":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1), first


def tell_leaders(store: Store, pack: RulePack, config: NotifyConfig, kind: str, first: date, until: date, now: datetime) -> tuple[int, list[str]]:
    """Each unit leader: the unit's summary, once per period (the key names kind, period and leader). Returns how
    many were told and the units whose leader no channel reached."""
    sent, failed = 0, []
    for unit in store.directory().units.values():
        if not unit.leader:
            continue
        result = report(store, pack, day_start(first), day_start(until), now, Scope(unit=unit.id))
        key = f"report:{kind}:{first.isoformat()}:{unit.id}:{unit.leader}"
        channel = send_note(store, config, unit.leader, f"期限考核{TITLES[kind]}", summary_text(result), key, now)
        if channel is None:
            failed.append(unit.id)
        else:
            sent += 1
    return sent, failed

"""The reminder rules officers rely on: when each step fires, who gets it, and what an SMS may say."""

from dataclasses import replace
from datetime import timedelta

from qixian.alerting.messages import Item, NotifyConfig, sms_segments
from qixian.engine.directory import Directory, Officer, Unit
from qixian.engine.reminders import reached, steps
from qixian.legaltime.localtime import parse_local
from qixian.legaltime.periods import Duration
from qixian.legaltime.periods import Unit as PeriodUnit
from qixian.rulebook.model import Reminder
from tests.paths import ROOT


def rule(pack, rule_id):
    return pack.versions(rule_id)[0]


def test_hour_limits_remind_by_the_hour(pack):
    family = rule(pack, "crim.detention.family_notice")  # 24 hours, custody, remind [12 hours, 4 hours, 1 hour]
    assert [str(r) for r in family.remind] == ["期满前 12小时", "期满前 4小时", "期满前 1小时"]
    start, due = parse_local("2026-03-02 22:10"), parse_local("2026-03-03 22:10")
    planned = steps(family, PeriodUnit.HOURS, start, due, pack.settings)
    assert [s.at for s in planned] == [
        parse_local("2026-03-03 10:10"),
        parse_local("2026-03-03 18:10"),
        parse_local("2026-03-03 21:10"),
        due,
    ]  # at night too: hour limits are never held
    assert [s.level for s in planned] == ["notice", "notice", "warning", "overdue"]


def test_day_limits_remind_by_the_day_at_the_morning_time(pack):
    review = rule(pack, "accept.criminal_review")  # 3 days, not custody
    review = replace(review, remind=(Reminder(offset=Duration(1, PeriodUnit.DAYS)), Reminder(offset=Duration(0, PeriodUnit.DAYS))))
    start, due = parse_local("2026-03-02 16:00"), parse_local("2026-03-05 24:00")
    planned = steps(review, PeriodUnit.DAYS, start, due, pack.settings)
    assert [s.at for s in planned[:-1]] == [parse_local("2026-03-04 08:30"), parse_local("2026-03-05 08:30")]


def test_quiet_hours_hold_day_limits_but_never_custody_or_hour_limits(pack):
    review = rule(pack, "accept.criminal_review")
    start, due = parse_local("2026-03-01 22:00"), parse_local("2026-03-06 24:00")  # 122 hours
    night = replace(review, remind=(Reminder(share=0.8),))  # 03-05 23:36, quiet hours
    assert steps(night, PeriodUnit.DAYS, start, due, pack.settings)[0].at == parse_local("2026-03-06 07:00")
    assert steps(replace(night, custody=True), PeriodUnit.DAYS, start, due, pack.settings)[0].at == parse_local("2026-03-05 23:36")  # custody: never held
    assert steps(night, PeriodUnit.HOURS, start, due, pack.settings)[0].at == parse_local("2026-03-05 23:36")
    late_night = replace(review, remind=(Reminder(share=0.99),))  # 03-06 22:47: held past the due
    planned = steps(late_night, PeriodUnit.DAYS, start, due, pack.settings)
    assert [s.level for s in planned] == ["overdue"]  # only the due step remains


def test_overdue_repeats_escalate_and_downtime_reaches_the_latest_step(pack):
    arrest = rule(pack, "crim.detention.arrest_request")
    start, due = parse_local("2026-03-02 10:00"), parse_local("2026-03-05 24:00")
    done, later = reached(arrest, PeriodUnit.DAYS, start, due, pack.settings, due + timedelta(hours=5, minutes=1))
    overdue = [s for s in done if s.level == "overdue"]
    assert overdue[0].at == due and overdue[0].escalate == arrest.overdue.escalate
    assert len(overdue) == 1 + int(timedelta(hours=5) / timedelta(hours=arrest.overdue.every.amount))
    assert later.at > due + timedelta(hours=5)


def test_a_scan_exactly_at_the_due_still_schedules_the_first_overdue_repeat(pack):
    arrest = rule(pack, "crim.detention.arrest_request")  # overdue: every 2 hours
    start, due = parse_local("2026-03-02 10:00"), parse_local("2026-03-05 24:00")
    done, later = reached(arrest, PeriodUnit.DAYS, start, due, pack.settings, due)
    assert done[-1].at == due and done[-1].level == "overdue"
    assert later is not None and later.at == due + timedelta(hours=2)  # without it the clock would fall silent


def test_sms_names_no_suspect_and_fits_its_segments():
    config = NotifyConfig.load(ROOT / "notify")
    items = [
        Item(
            f"k{i}",
            "overdue" if i < 3 else "warning",
            f"（2025）城关刑字第{i:04d}号",
            "某超市盗窃案",
            "拘留后提请批准逮捕",
            "张三",
            "2025-10-02 24:00",
            "3小时",
            "overdue" if i < 3 else "running",
            i == 0,
        )
        for i in range(12)
    ]
    text = config.sms(items)
    assert "张三" not in text and "某超市盗窃案" not in text
    assert sms_segments(text) <= config.sms_max_segments and "另有" in text and "（补发）" in text
    assert "张三" in config.chat(items, "刘明")


def test_unknown_officers_and_missing_roles_fall_back_to_the_duty_phone():
    directory = Directory({"u1": Unit("u1", "城关派出所", "o9", None, "13800000000")}, {"o1": Officer("o1", "刘明", "u1"), "o9": Officer("o9", "周国平", "u1")})
    found, problems = directory.recipients(("handler", "unit_leader", "legal_officer"), unit="u1", handler="o404", co_handlers=[])
    assert found == ["duty:u1", "o9"]
    assert any("o404" in p for p in problems) and any("legal_officer" in p for p in problems)

"""Campaign work replayed by the one clock engine: clues (双交办, 三个必须), listed supervision, recurring duties.
Every due below is derived by hand in the comments from rules/campaign.yaml and rules/calendar/2026.yaml."""

from datetime import UTC, datetime

from qixian.engine.clocks import Event, replay
from qixian.legaltime.localtime import display, parse_local

CLUE = {"kind": "clue", "source": "上级转办", "unit": "xingjing"}


def at(text: str):
    return parse_local(text)


def clocks_of(pack, events, facts, until=None, rule_prefix="campaign."):
    found = replay(pack, events, case="T", facts=facts, until=until)
    return sorted((c for c in found if c.rule.id.startswith(rule_prefix)), key=lambda c: (c.rule.id, c.person or "", c.number))


def test_a_passed_down_clue_assigned_twice_verified_late_and_reported_back_in_time(pack):
    events = [
        Event("clue_received", at("2026-09-01 10:00"), data={"source": "上级转办"}),
        Event("clue_assigned", at("2026-09-05 09:00"), data={"assignee": "xingjing", "officer": "officer-1", "parallel": True}),
        Event("clue_assigned", at("2026-09-05 09:00"), data={"assignee": "jiwei", "parallel": True}),
        Event("clue_verified", at("2026-10-07 16:00"), data={"assignee": "jiwei"}),
        Event("clue_feedback_given", at("2026-10-09 11:00"), data={"assignee": "jiwei"}),
        Event("clue_verified", at("2026-10-09 15:00"), data={"assignee": "xingjing"}),
        Event("clue_feedback_given", at("2026-10-10 10:00"), data={"assignee": "xingjing"}),
    ]
    now = at("2026-10-20 09:00")
    found = {(c.rule.id, c.person): c for c in clocks_of(pack, events, CLUE)}
    # 核查（30 日，按交办对象各一个计时）：09-05 + 30 日 = 10-05，国庆假期（10-01—10-07）→ 顺延至 10-08 24:00。
    for body in ("xingjing", "jiwei"):
        assert found[("campaign.clue.verify_passed_down", body)].deadline.due == at("2026-10-09 00:00")
    # 公安 10-09 15:00 才核查完毕：超期完成；纪委监委 10-07 核查完毕：按期。
    assert found[("campaign.clue.verify_passed_down", "xingjing")].state(now) == "met_late"
    assert found[("campaign.clue.verify_passed_down", "jiwei")].state(now) == "met"
    # 反馈（3 日，自各自核查完毕起算）：公安 10-09 + 3 日 = 10-12（星期一）24:00，10-10 反馈 → 按期；
    # 纪委监委 10-07 + 3 日 = 10-10（星期六，调休上班日，不顺延）24:00，10-09 反馈 → 按期。
    assert display(found[("campaign.clue.feedback", "xingjing")].due) == "2026-10-12 24:00"
    assert display(found[("campaign.clue.feedback", "jiwei")].due) == "2026-10-10 24:00"
    assert {found[("campaign.clue.feedback", b)].state(now) for b in ("xingjing", "jiwei")} == {"met"}
    # 上级转办的线索没有"见面询问"和"重新核查"（那是群众举报线索的三个必须），也没有按 15 日核查的计时。
    assert {rule for rule, _ in found} == {"campaign.clue.verify_passed_down", "campaign.clue.feedback"}
    # 工作规范不冒充法律：说明写明参照法定期间的计算方法，不引刑诉法。
    explanation = " ".join(found[("campaign.clue.verify_passed_down", "xingjing")].deadline.explanation)
    assert "刑诉法" not in explanation and "专项工作要求《××市扫黑除恶常态化工作线索核查办理规定》（示例）参照法定期间的计算方法" in explanation


def test_a_reported_clue_has_the_three_musts_as_clocks_of_their_own(pack):
    facts = {"kind": "clue", "source": "群众举报", "unit": "chengguan"}
    events = [
        Event("clue_assigned", at("2026-03-02 09:00"), data={"assignee": "chengguan", "officer": "officer-2"}),
        Event("informant_interviewed", at("2026-03-05 15:00"), data={"assignee": "chengguan"}),
    ]
    found = {c.rule.id: c for c in clocks_of(pack, events, facts)}
    # 见面询问 03-02 + 7 日 = 03-09 24:00（已于 03-05 完成）；重新核查 + 10 日 = 03-12 24:00；核查 + 15 日 = 03-17 24:00。
    assert display(found["campaign.clue.interview_informant"].due) == "2026-03-09 24:00"
    assert found["campaign.clue.interview_informant"].outcome == "met"
    assert display(found["campaign.clue.reverify"].due) == "2026-03-12 24:00"
    assert display(found["campaign.clue.verify"].due) == "2026-03-17 24:00"


def test_a_clue_that_becomes_a_case_ends_its_clocks_and_keeps_them(pack):
    facts = {"kind": "clue", "source": "群众举报", "unit": "chengguan"}
    events = [
        Event("clue_assigned", at("2026-03-02 09:00"), data={"assignee": "chengguan"}),
        Event("clue_merged_into_case", at("2026-03-06 10:00"), data={"case": "（2026）城关刑字第0101号"}),
    ]
    found = clocks_of(pack, events, facts)
    # 三个计时（见面询问、重新核查、核查）都在 03-06 转为案件时结束为"不再适用"，记录保留。
    assert [c.rule.id for c in found] == ["campaign.clue.interview_informant", "campaign.clue.reverify", "campaign.clue.verify"]
    assert {(c.outcome, c.ended_by, c.ended_at) for c in found} == {("cancelled", "clue_merged_into_case", at("2026-03-06 10:00"))}


def test_a_listed_case_with_three_report_periods_one_missed_then_lifted(pack):
    events = [
        Event("case_listed", at("2026-03-02 10:00"), data={"level": "市", "leader": "officer-9", "contact": "officer-7", "report_every": "15日"}),
        Event("listing_report_filed", at("2026-03-16 15:00")),
        Event("listing_report_filed", at("2026-04-10 09:00")),
        Event("listing_lifted", at("2026-04-20 10:00")),
    ]
    now = at("2026-05-10 09:00")
    found = clocks_of(pack, events, {"kind": "criminal"}, until=now)
    # 每 15 日一期，第 N 期在挂牌后第 15N 日 24:00 期满：03-17、04-01、04-16；第 4 期 +60 日 = 05-01（劳动节）→ 05-06。
    assert [display(c.due) for c in found] == ["2026-03-17 24:00", "2026-04-01 24:00", "2026-04-16 24:00", "2026-05-06 24:00"]
    # 03-16 的报告满足第 1 期；第 2 期（03-18—04-01）无报告：超期；04-10 的报告满足第 3 期；04-20 撤销挂牌时第 4 期
    # 尚未期满：不再适用；之后不再开新的一期。漏报的第 2 期撤销挂牌后仍是超期。
    assert [c.state(now) for c in found] == ["met", "overdue", "met", "cancelled"]
    assert [c.started for c in found][1:3] == [at("2026-03-18 00:00"), at("2026-04-02 00:00")]


def test_a_unit_misses_the_weekly_review_of_the_national_day_week(pack):
    facts = {"kind": "duty", "unit": "chengguan"}
    events = [
        Event("duties_opened", at("2026-09-14 09:00")),
        Event("duty_done", at("2026-09-18 10:00"), data={"duty": "周研判"}),
        Event("duty_done", at("2026-09-24 16:00"), data={"duty": "周研判"}),
        Event("duty_done", at("2026-10-09 09:00"), data={"duty": "周研判"}),
    ]
    now = at("2026-10-12 09:00")
    weekly = [c for c in clocks_of(pack, events, facts, until=now) if c.rule.id == "campaign.duty.weekly_review"]
    # W38 周五 09-18 18:00；W39 周五 09-25 中秋、09-26/27 周末假期 → 09-28（星期一）18:00；
    # W40 周五 10-02 国庆，10-03—10-07 仍休息 → 10-08（星期四）18:00；W41 周五 10-09 18:00；W42 周五 10-16 18:00。
    assert [display(c.due) for c in weekly] == ["2026-09-18 18:00", "2026-09-28 18:00", "2026-10-08 18:00", "2026-10-09 18:00", "2026-10-16 18:00"]
    # 10-09 09:00 的研判已过 W40 顺延后的期满（10-08 18:00），记入 W41；W40 漏做，超期。
    assert [c.state(now) for c in weekly] == ["met", "met", "overdue", "met", "running"]
    assert all(c.person == "chengguan" for c in weekly)
    # A late record naming the period makes it up: met late, and W41 keeps its own record.
    late = [*events, Event("duty_done", at("2026-10-12 08:00"), data={"duty": "周研判", "period": "2026-W40"})]
    again = [c for c in clocks_of(pack, late, facts, until=now) if c.rule.id == "campaign.duty.weekly_review"]
    assert [c.state(now) for c in again] == ["met", "met", "met_late", "met", "running"]


def test_a_daily_duty_has_no_period_on_rest_days_and_other_duties_records_do_not_count(pack):
    facts = {"kind": "duty", "unit": "chengguan"}
    events = [Event("duties_opened", at("2026-09-30 08:00")), Event("duty_done", at("2026-09-30 17:00"), data={"duty": "周研判"})]
    daily = [c for c in clocks_of(pack, events, facts, until=at("2026-10-09 09:00")) if c.rule.id == "campaign.duty.daily_sorting"]
    # 09-30（星期三）一期；10-01—10-07 国庆假期无日梳理；10-08、10-09 各一期。周研判的记录不满足日梳理。
    assert [display(c.due) for c in daily] == ["2026-09-30 18:00", "2026-10-08 18:00", "2026-10-09 18:00"]
    assert daily[0].outcome is None


def test_a_monthly_duty_due_on_the_last_day_of_each_month(make_pack):
    """`due: "last 24:00"` (rules/README.md: 月末) is due at 24:00 of each month's last day, rolled like any due."""
    from qixian.rulebook import load_pack

    rule = """rules:
  - id: campaign.test.month_end
    name: 月末小结
    basis:
      - {cite: 《某工作规范》, kind: working_standard, text: 每月最后一日24时前报送小结。}
    applies: {case.kind: duty}
    per: unit
    start: duties_opened
    every: {period: month, due: "last 24:00"}
    stop: [duty_done]
"""
    pack = load_pack(make_pack(("test.yaml", rule)))
    found = clocks_of(pack, [Event("duties_opened", at("2026-01-05 09:00"))], {"kind": "duty", "unit": "chengguan"}, until=at("2026-03-10 09:00"))
    # 01-31 是星期六 → 顺延至 02-02（星期一）24:00；02-28 是星期六，但为春节调休上班日：不顺延；03-31 是星期二。
    assert [display(c.due) for c in found] == ["2026-02-02 24:00", "2026-02-28 24:00", "2026-03-31 24:00"]
    assert "本月：2026-02（2026-02-01 至 2026-02-28），期满时刻 2026-02-28 24:00。" in found[1].deadline.explanation


def test_a_duty_in_a_year_without_a_calendar_is_provisional_and_names_the_file_to_add(pack):
    """The provisional warning of a recurring duty is the one every due uses (deadlines.provisional_step)."""
    facts = {"kind": "duty", "unit": "chengguan"}
    found = clocks_of(pack, [Event("duties_opened", at("2027-01-04 09:00"))], facts, until=at("2027-01-05 09:00"))
    weekly = next(c for c in found if c.rule.id == "campaign.duty.weekly_review")
    # 2027 年日历未收录：只把周六、周日作为休息日，周五 01-08 18:00 期满，是临时结果。
    assert display(weekly.due) == "2027-01-08 18:00" and weekly.deadline.provisional and weekly.deadline.missing_years == (2027,)
    warning = weekly.deadline.explanation[-1]
    assert warning.startswith("⚠ 临时结果：2027 年的法定节假日安排未收录（请添加 ")
    assert warning.endswith("rules/calendar/2027.yaml），该年只把周六、周日作为休息日；日历补齐后须重新计算。")


def test_a_duty_opened_at_a_time_written_in_utc_counts_beijing_days(pack):
    # 2026-09-30 00:30Z is 08:30 Beijing time on 09-30: the same periods as when written in Beijing time. Counted in
    # the event's own offset, the days would begin at 08:00 Beijing time and the due would read 2026-10-01 02:00.
    facts = {"kind": "duty", "unit": "chengguan"}
    until = at("2026-10-09 09:00")
    beijing = [Event("duties_opened", at("2026-09-30 08:30"))]
    utc = [Event("duties_opened", datetime(2026, 9, 30, 0, 30, tzinfo=UTC))]

    def daily(events):
        return [(display(c.started), display(c.due)) for c in clocks_of(pack, events, facts, until=until) if c.rule.id == "campaign.duty.daily_sorting"]

    assert (
        daily(utc)
        == daily(beijing)
        == [
            ("2026-09-30 08:30", "2026-09-30 18:00"),
            ("2026-10-07 24:00", "2026-10-08 18:00"),
            ("2026-10-08 24:00", "2026-10-09 18:00"),
        ]
    )

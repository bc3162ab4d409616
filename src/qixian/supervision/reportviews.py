"""The assessment report as people read it: CSV, a self-contained HTML page with inline SVG charts, markdown for
Prefect artifacts, and the few lines a unit leader receives. The figures all come from `qixian.supervision.reports`.

The HTML template lives with the code (src/qixian/supervision/templates/), not in notify/templates: it is part of the product's
output, not a channel message that ops adapt, and a notify folder replaced by ops must not lose it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import jinja2

from qixian.safetext import csv_row, markdown, visible
from qixian.supervision.reports import BASIS_GROUPS, Report, Row, Tally

# (field, 中文列名): the measures of every tally, in the order tables show them
MEASURES = [
    ("assessed", "应办结"),
    ("met", "按期完成"),
    ("met_late", "超期完成"),
    ("overdue", "当前超期"),
    ("pending", "未到期"),
    ("overdue_rate", "超期率"),
    ("reminders", "提醒"),
    ("overdue_reminders", "超期提醒"),
    ("acknowledged", "已确认"),
    ("to_completion_hours_median", "提醒至完成(小时,中位)"),
    ("ack_latency_minutes_median", "确认用时(分钟,中位)"),
]
SECTIONS = [
    ("by_basis", "按依据（法定期限与工作规范分开）"),
    ("by_type", "按提醒类型"),
    ("by_rule", "按规则"),
    ("by_unit", "按单位（超期率排名）"),
    ("by_officer", "按主办民警（超期率排名）"),
    ("by_week", "按周（期满所在周）"),
]
TEMPLATES = Path(__file__).with_name("templates")
# told only beside late work of both bases: with one basis alone its own label (法定期限 or 工作规范（非法定）) says it
BASIS_NOTE = "法定期限是法律法规规定的期限；工作规范是本局或专项工作文件规定的期限，不是法律规定，超期不等于违法。"


def period_label(report: Report) -> str:
    last = (report.end - timedelta(seconds=1)).date()
    return f"{report.start.date()} 至 {last}"


def cells(tally: Tally) -> list[str]:
    """The measures of one tally as shown: counts, the rate in per cent, medians with one decimal, "—" for none."""
    values = tally.as_dict()
    shown = []
    for name, _ in MEASURES:
        value = values[name]
        if value is None:
            shown.append("—")
        elif name == "overdue_rate":
            shown.append(f"{value:.1%}")
        else:
            shown.append(f"{value:g}" if isinstance(value, float) else str(value))
    return shown


def basis_parts(report: Report) -> list[str]:
    """Late work by basis, law first, one phrase each ("法定期限：应办结 12，超期完成 1，当前超期 2"), so nobody
    reads a missed working standard as a breach of law, or the other way round."""
    return [f"{row.label}：应办结 {row.tally.assessed}，超期完成 {row.tally.met_late}，当前超期 {row.tally.overdue}" for row in report.by_basis]


def basis_note(report: Report) -> str | None:
    """The note telling 法定期限 from 工作规范, when the report has clocks of both bases; None when it has one or none."""
    return BASIS_NOTE if {row.key for row in report.by_basis} >= BASIS_GROUPS.keys() else None


def sections(report: Report) -> list[tuple[str, list[Row]]]:
    return [(title, getattr(report, name)) for name, title in SECTIONS]


def as_csv(report: Report) -> str:
    """One row per group, every grouping in one file (first column says which), raw numbers (the rate as a
    fraction, no value as an empty cell), UTF-8 with BOM for Excel; no text cell is a formula (safetext.csv_row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row(["分组", "编号", "名称"] + [label for _, label in MEASURES]))

    def raw(tally: Tally) -> list:
        values = tally.as_dict()
        return ["" if values[name] is None else values[name] for name, _ in MEASURES]

    writer.writerow(csv_row(["合计", "", report.scope_label, *raw(report.total)]))
    for title, rows in sections(report):
        for row in rows:
            writer.writerow(csv_row([title, row.key, row.label, *raw(row.tally)]))
    return "\ufeff" + out.getvalue()


def html_context(report: Report, shown: int | None = None) -> dict:
    """What report_body.html.j2 (the figures, charts and tables) needs: the standalone page and the dashboard's
    report page render the same body from it. With `shown`, each table lists at most that many rows (the ranked
    ones their worst first) and says how many more there are: a province's 5,000 officers are a CSV, not a page."""
    weeks = [(row.label, row.tally.met, row.tally.met_late, row.tally.overdue) for row in report.by_week]
    units = [(row.label, row.tally.overdue_rate or 0.0, row.tally.assessed) for row in report.by_unit]
    rules = sorted(
        ((row.label, row.tally.met_late + row.tally.overdue) for row in report.by_rule if row.tally.met_late + row.tally.overdue), key=lambda item: -item[1]
    )[:12]
    return dict(
        report=report,
        period=period_label(report),
        basis=basis_parts(report),
        basis_note=basis_note(report),
        measures=[label for _, label in MEASURES],
        cells=cells,
        sections=[(title, rows[:shown], len(rows[shown:]) if shown else 0) for title, rows in sections(report)],
        anomalies=report.anomalies[:shown],
        weeks=weeks,
        week_max=max([sum(w[1:]) for w in weeks] + [1]),
        units=units,
        rules=rules,
        rule_max=max([n for _, n in rules] + [1]),
    )


def as_html(report: Report) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, finalize=visible, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return environment.get_template("report.html.j2").render(**html_context(report))


def as_markdown(report: Report) -> str:
    """The report for a Prefect markdown artifact: the totals, the unit ranking, anomalies."""
    total = report.total
    lines = [
        f"# 执法办案期限考核：{markdown(report.scope_label)}，{period_label(report)}",
        "",
        f"应办结 **{total.assessed}**，按期完成 {total.met}，超期完成 {total.met_late}，当前超期 **{total.overdue}**，"
        f"超期率 {cells(total)[5]}；提醒 {total.reminders} 次，已确认 {total.acknowledged}。",
        "",
    ]
    lines += [f"- {markdown(part)}" for part in basis_parts(report)] + ([""] if report.by_basis else [])
    note = basis_note(report)
    lines += [note, ""] if note else []
    for title, rows in sections(report)[:4]:
        lines += [f"## {title}", "", "| 名称 | " + " | ".join(label for _, label in MEASURES[:6]) + " |", "|---" * 7 + "|"]
        lines += ["| " + markdown(row.label) + " | " + " | ".join(cells(row.tally)[:6]) + " |" for row in rows]
        lines.append("")
    if report.anomalies:
        lines += ["## 异常", ""] + [f"- {label}：{count}" for label, count in report.anomaly_counts()]
    return "\n".join(lines)


def summary_text(report: Report) -> str:
    """A few lines for a unit leader's phone (chat markdown or SMS): the totals and the worst groups, names escaped."""
    total = report.total
    text = [
        f"{markdown(report.scope_label)} {period_label(report)} 期限考核：应办结{total.assessed}，按期{total.met}，"
        f"超期完成{total.met_late}，当前超期{total.overdue}，超期率{cells(total)[5]}。"
    ]
    if len(report.by_basis) > 1:
        text.append("其中" + "；".join(basis_parts(report)) + "。")
    worst = [row for row in report.by_type if row.tally.met_late + row.tally.overdue][:3]
    if worst:
        text.append("超期较多：" + "；".join(f"{markdown(row.label)}{row.tally.met_late + row.tally.overdue}" for row in worst) + "。")
    if report.anomalies:
        text.append("异常：" + "；".join(f"{label}{count}" for label, count in report.anomaly_counts()) + "。")
    return "\n".join(text)

"""The assessment report on the dashboard: a period and a unit (an officer sees their own)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from qixian.supervision.reports import Scope
from qixian.supervision.reportviews import html_context
from qixian.supervision.snapshots import View, served
from qixian.web.site import Refused, Signed, Site, options_of, parse_day

MAX_REPORT_DAYS = 400
REPORT_ROWS = 100  # rows of each report table on the page (the worst first); the CSV has them all


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/reports")
    def reports(request: Request, unit: str = "", signed: Signed = Depends(site.signed_in)):
        viewer, today = signed.viewer, site.now().date()
        first = parse_day(request.query_params.get("from"), today.replace(day=1), "起始日期")
        last = parse_day(request.query_params.get("to"), today, "截止日期")
        if last < first or (last - first).days > MAX_REPORT_DAYS:
            raise Refused(400, f"期间应为起始日期至截止日期，截止不早于起始，且不超过 {MAX_REPORT_DAYS} 天")
        units = options_of(signed.directory, viewer)["units"]
        if viewer.role == "officer":
            scope = Scope(officer=viewer.officer)
        elif viewer.role == "leader":
            scope = Scope(unit=unit if unit in viewer.units else viewer.units[0])
        else:
            scope = Scope(unit=unit or None)
        if scope.unit is not None and scope.unit not in dict(units):
            raise Refused(400, f"没有单位 {scope.unit}")
        # a snapshot of this view computed with this pack at most report_fresh minutes ago, else counted now and kept
        result, from_snapshot = served(site.store, site.in_force(), View(first, last, scope), site.now(), site.report_fresh)
        return site.render(
            "reports.html.j2",
            request,
            signed,
            title="考核报表",
            first=first,
            last=last,
            unit_choices=units,
            unit=scope.unit or "",
            snapshot_at=result.now if from_snapshot else None,
            report_fresh=site.report_fresh,
            **html_context(result, REPORT_ROWS),
        )

    return router

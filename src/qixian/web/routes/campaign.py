"""Campaign work on the dashboard (专项工作): the ledgers of the viewer's clues, listed cases and units' duties for a
period, and a form for a unit leader (or legal staff) to record a duty done."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from qixian.casework.campaign import duty_rules, record_duty
from qixian.legaltime.localtime import parse_local
from qixian.supervision import ledgers
from qixian.supervision.reports import day_start
from qixian.web.routes.reports import MAX_REPORT_DAYS
from qixian.web.site import Refused, Signed, Site, base_of, parse_day


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/campaign")
    def campaign_page(request: Request, signed: Signed = Depends(site.signed_in), recorded: str = ""):
        viewer, today = signed.viewer, site.now().date()
        first = parse_day(request.query_params.get("from"), today.replace(day=1), "起始日期")
        last = parse_day(request.query_params.get("to"), today, "截止日期")
        if last < first or (last - first).days > MAX_REPORT_DAYS:
            raise Refused(400, f"期间应为起始日期至截止日期，截止不早于起始，且不超过 {MAX_REPORT_DAYS} 天")
        pack = site.in_force()
        found = ledgers.build(
            site.store,
            pack,
            day_start(first),
            day_start(last + timedelta(days=1)),
            site.now(),
            viewer.scoped,
            "全局" if viewer.role == "legal" else viewer.name,
            keep=viewer.sees,
        )
        duty_units = [(u, signed.directory.unit_name(u)) for u in viewer.units] if viewer.role != "officer" else []
        base = base_of(request)
        return site.render(
            "campaign.html.j2",
            request,
            signed,
            title="专项工作",
            first=first,
            last=last,
            duty_units=duty_units,
            duties=[r.name for r in duty_rules(pack)],
            recorded=recorded[:200],
            **ledgers.html_context(found, case_link=lambda case_id: f"{base}/case?id={quote(case_id, safe='')}"),
        )

    @router.post("/campaign/duty")
    def campaign_duty(request: Request, fields: dict = Depends(site.posted), signed: Signed = Depends(site.signed_in)):
        """A unit leader (or legal staff) records a duty done for a unit they oversee."""
        viewer, unit = signed.viewer, fields.get("unit", "")
        if viewer.role == "officer" or unit not in viewer.units:
            raise Refused(403, "只能为本人负责的单位记录常态化工作")
        now = site.now()
        try:
            at = parse_local(fields["at"]) if fields.get("at", "").strip() else now
            report = record_duty(site.store, site.in_force(), unit, fields.get("duty", ""), at, now, by=viewer.officer)
        except ValueError as exc:
            raise Refused(400, str(exc)) from None
        said = "已记录" if report.accepted else "此前已记录"
        done = quote(f"{said}：{signed.directory.unit_name(unit)} {fields.get('duty', '')}")
        return RedirectResponse(f"{base_of(request)}/campaign?recorded={done}", status_code=303)

    return router

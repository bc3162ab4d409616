"""The rule pack in force, as legal staff read it: the rules by group, and one rule explained."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from qixian.rulebook.describe import explain
from qixian.web.site import Refused, Signed, Site


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/rules")
    def rules(request: Request, signed: Signed = Depends(site.signed_in)):
        pack = site.in_force()
        grouped = [(g, [r for r in pack.rules if (r.group or "") == g]) for g in (*pack.settings.groups, "")]
        return site.render("rules.html.j2", request, signed, title="规则", grouped=[(g, rs) for g, rs in grouped if rs])

    @router.get("/rules/{rule_id}")
    def rule(request: Request, rule_id: str, signed: Signed = Depends(site.signed_in)):
        pack = site.in_force()
        versions = pack.versions(rule_id)
        if not versions:
            raise Refused(404, f"规则包中没有规则 {rule_id}")
        return site.render("rule.html.j2", request, signed, title=versions[-1].name, versions=[(r, explain(pack, r)) for r in versions])

    return router

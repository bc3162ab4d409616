"""The board: the open clocks (all, or the overdue), the anomalies, one case, and the style sheet."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from qixian.web.board import Board
from qixian.web.site import HERE, Refused, Signed, Site, chosen_filters, filters_of, options_of, page_number, pager_of


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/static/style.css")
    def style():
        return Response((HERE / "static" / "style.css").read_text(encoding="utf-8"), media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    def listing(request: Request, signed: Signed, title: str, colour: str | None):
        """A page of the open-clock list (`colour` fixed: the overdue page) with the filters of the query string."""
        pack = site.in_force()
        options = options_of(signed.directory, signed.viewer)
        filters = filters_of(request, options, pack.settings.groups, colour)
        page = Board(site.store, pack, signed.directory).clocks(signed.viewer, site.now(), filters, page_number(request))
        return site.render(
            "clocks.html.j2",
            request,
            signed,
            title=title,
            listing=page,
            colour_fixed=colour is not None,
            chosen=chosen_filters(request),
            options=options,
            groups=pack.settings.groups,
            paging=pager_of(request, page),
        )

    @router.get("/")
    def upcoming(request: Request, signed: Signed = Depends(site.signed_in)):
        return listing(request, signed, "期限一览", None)

    @router.get("/overdue")
    def overdue(request: Request, signed: Signed = Depends(site.signed_in)):
        return listing(request, signed, "超期", "red")

    @router.get("/anomalies")
    def anomalies(request: Request, signed: Signed = Depends(site.signed_in)):
        page = Board(site.store, site.in_force(), signed.directory).anomalies(signed.viewer, site.now(), page_number(request))
        return site.render("anomalies.html.j2", request, signed, title="异常", found=page, paging=pager_of(request, page))

    @router.get("/case")
    def case(request: Request, id: str = "", signed: Signed = Depends(site.signed_in)):
        page = Board(site.store, site.in_force(), signed.directory).case(signed.viewer, id, site.now()) if id else None
        if page is None:
            raise Refused(404, f"没有案件 {id}，或不在您可查看的范围内")
        return site.render("case.html.j2", request, signed, title=f"案件 {id}", page=page)

    return router

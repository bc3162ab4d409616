"""An officer's reminders and their acknowledgement: on the board after signing in, or by the signed link in a
chat message (the one page opened without signing in)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from qixian.alerting.signing import BadToken, read_ack_token
from qixian.store.people import LINK_LEVELS, AcknowledgeError
from qixian.store.tables import OutboxRow
from qixian.web.board import Board
from qixian.web.site import Refused, Signed, Site, base_of, local_path, page_number, pager_of


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/reminders")
    def reminders(request: Request, signed: Signed = Depends(site.signed_in)):
        page = Board(site.store, site.in_force(), signed.directory).reminders(signed.viewer, page_number(request))
        return site.render("reminders.html.j2", request, signed, title="我的提醒", lines=page.lines, paging=pager_of(request, page))

    @router.post("/reminders/{outbox_id}/ack")
    def acknowledge(request: Request, outbox_id: int, fields: dict = Depends(site.posted), signed: Signed = Depends(site.signed_in)):
        try:
            site.store.acknowledge(outbox_id, signed.viewer.officer, "dashboard", site.now())
        except AcknowledgeError as exc:
            raise Refused(400, str(exc)) from None
        return RedirectResponse(base_of(request) + local_path(fields.get("next", "/reminders")), status_code=303)

    # -- the link in a chat message ---------------------------------------------------------------

    def linked(token: str) -> tuple[str, OutboxRow]:
        """(officer, reminder) of a link, while its officer may still acknowledge it (Store.acknowledgeable)."""
        try:
            outbox_id, officer = read_ack_token(site.secret, token, site.now())
            return officer, site.store.acknowledgeable(outbox_id, officer)
        except (BadToken, AcknowledgeError) as exc:
            raise Refused(400, str(exc)) from None

    def link_page(request: Request, token: str, row: OutboxRow, done: str) -> HTMLResponse:
        return site.render(
            "ack_link.html.j2",
            request,
            None,
            title="已确认" if done else "确认收到提醒",
            line=Board(site.store, site.in_force()).reminder(row),
            token=token,
            done=done,
            by_link=row.level in LINK_LEVELS,
        )

    @router.get("/ack/{token}")
    def ack_link(request: Request, token: str):
        _, row = linked(token)
        return link_page(request, token, row, "")

    @router.post("/ack/{token}")
    def ack_by_link(request: Request, token: str):
        # the signed token is the credential, so no session or CSRF cookie: whoever is in the chat can use it, and it
        # acknowledges only as its officer, while on the case, and no overdue reminder (Store.acknowledge)
        officer, row = linked(token)
        assert row.id is not None, "a reminder read from the store has its id"
        try:
            _, new = site.store.acknowledge(row.id, officer, "link", site.now())
        except AcknowledgeError as exc:
            raise Refused(400, str(exc)) from None
        return link_page(request, token, row, "new" if new else "again")

    return router

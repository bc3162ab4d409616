"""What every page of the dashboard shares: the store, the pack in force, the clock and the secret key, the
templates, who is signed in, the checked form of a request, and the pages' query-string and path helpers. Routes
(qixian.web.routes) are built over one Site."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import overload
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from qixian.alerting.digest import DIGESTED
from qixian.engine.directory import Directory
from qixian.legaltime.localtime import display
from qixian.rulebook.model import RulePack
from qixian.safetext import visible
from qixian.store.repository import Store
from qixian.supervision.clockview import LIGHTS
from qixian.supervision.reportviews import TEMPLATES as REPORT_TEMPLATES
from qixian.supervision.snapshots import DEFAULT_FRESH
from qixian.web.access import Viewer, viewer_of
from qixian.web.auth import NONCE_COOKIE, SESSION_COOKIE, csrf_ok, csrf_token, session_key
from qixian.web.board import Filters, Page

HERE = Path(__file__).parent
MAX_FORM = 16 * 1024


class LoginRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class Refused(Exception):
    """A request that cannot be served as asked; shown as a page with the status and the Chinese message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Signed:
    """The signed-in officer of a request: who (as a viewer), the session id the forms are keyed on, and the
    directory as it was read for the request (once: a province's has thousands of officers)."""

    def __init__(self, viewer: Viewer, nonce: str, directory: Directory):
        self.viewer, self.nonce, self.directory = viewer, nonce, directory


class Site:
    """The dashboard over `store` and the pack in force (`in_force()`, asked on each page so that a roll-out
    switches it); forms keyed and links signed with `secret`; `now()` the time of a request; the reports page serves
    a report snapshot at most `report_fresh` minutes old (qixian.supervision.snapshots)."""

    def __init__(self, store: Store, in_force: Callable[[], RulePack], secret: bytes, now: Callable[[], datetime], report_fresh: int = DEFAULT_FRESH):
        self.store, self.in_force, self.secret, self.now, self.report_fresh = store, in_force, secret, now, report_fresh
        self.pages = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(HERE / "templates"), jinja2.FileSystemLoader(REPORT_TEMPLATES)]),
            autoescape=True,
            finalize=visible,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.pages.globals.update(display=display, lights=LIGHTS, DIGESTED=DIGESTED, quote=lambda text: quote(str(text), safe=""))

    def render(self, name: str, request: Request, signed: Signed | None, status: int = 200, *, nonce: str = "", **context) -> HTMLResponse:
        nonce = signed.nonce if signed else nonce or request.cookies.get(NONCE_COOKIE) or ""
        html = self.pages.get_template(name).render(
            viewer=signed.viewer if signed else None,
            csrf=csrf_token(self.secret, nonce),
            base=base_of(request),
            path=path_of(request),
            now=self.now(),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def signed_in(self, request: Request) -> Signed:
        cookie = request.cookies.get(SESSION_COOKIE)
        officer = self.store.web_session(session_key(cookie), self.now()) if cookie else None
        if not cookie or not officer:
            raise LoginRequired()  # signed out, expired, new password
        directory = self.store.directory()
        viewer = viewer_of(directory, officer)
        if viewer is None:
            raise LoginRequired()  # (or the officer left the directory)
        return Signed(viewer, cookie, directory)

    async def posted(self, request: Request) -> dict[str, str]:
        """The form's fields, once its CSRF token matches the session (or, before sign-in, the nonce cookie)."""
        body = await request.body()
        if len(body) > MAX_FORM:
            raise Refused(413, "提交的内容过长")
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        nonces = [n for n in (request.cookies.get(SESSION_COOKIE), request.cookies.get(NONCE_COOKIE)) if n]
        if not any(csrf_ok(self.secret, n, fields.get("csrf")) for n in nonces):
            raise Refused(403, "表单已失效（缺少或不符的校验码）：请返回、刷新页面后重新提交")
        return fields


FILTERS = ("unit", "officer", "group", "light", "from", "to")  # the list's query-string filters, kept in pager links


def chosen_filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FILTERS}


def filters_of(request: Request, options: dict, groups: Sequence[str], colour: str | None) -> Filters:
    """The list's filters from the query string, each checked against what may be chosen (hostile input: a bad
    value is refused with a Chinese message, and nothing of it reaches SQL but as a bound parameter)."""
    chosen = chosen_filters(request)
    unit, officer, group, shade = chosen["unit"], chosen["officer"], chosen["group"], colour or chosen["light"]
    if unit and unit not in dict(options["units"]):
        raise Refused(400, "所选单位不存在，或不在您可查看的范围内")
    if officer and officer not in dict(options["officers"]):
        raise Refused(400, "所选民警不存在，或不在您可查看的范围内")
    if group and group not in groups:
        raise Refused(400, f"没有这个分组：可用的分组为 {'、'.join(groups)}")
    if shade and shade not in LIGHTS:
        raise Refused(400, f"状态筛选应为 {'、'.join(LIGHTS.values())} 之一")
    first = parse_day(chosen["from"], None, "期满起始日期")
    last = parse_day(chosen["to"], None, "期满截止日期")
    if first and last and last < first:
        raise Refused(400, "期满截止日期不能早于起始日期")
    return Filters(unit or None, officer or None, group or None, shade or None, first, last)


def page_number(request: Request) -> int:
    text = request.query_params.get("page", "1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 7) or int(text) < 1:  # isdigit alone admits "²"
        raise Refused(400, "页码应为正整数，如 2")
    return int(text)


def pager_of(request: Request, page: Page) -> dict:
    """The pager's links: this path with the same filters and another page number (None: no such page)."""
    kept = [(name, request.query_params[name]) for name in FILTERS if request.query_params.get(name)]

    def link(number: int) -> str | None:
        if not 1 <= number <= page.pages:
            return None
        return base_of(request) + path_of(request) + "?" + urlencode(kept + ([("page", str(number))] if number > 1 else []))

    return {
        "number": page.number,
        "pages": page.pages,
        "total": page.total,
        "first": page.offset + 1,
        "last": min(page.total, page.offset + page.size),
        "previous": link(min(page.number - 1, page.pages)),
        "next": link(page.number + 1),
        "beyond": page.number > page.pages,
        "more": page.more,
    }


def options_of(directory: Directory, viewer: Viewer) -> dict[str, list[tuple[str, str]]]:
    """The units and officers the viewer may filter by: (id, name)."""
    if viewer.role == "officer":
        return {"units": [], "officers": []}
    units = [(u.id, u.name) for u in directory.units.values() if viewer.role == "legal" or u.id in viewer.units]
    chosen = {u for u, _ in units}
    officers = [(o.id, o.name) for o in directory.officers.values() if viewer.role == "legal" or o.unit in chosen]
    return {"units": units, "officers": officers}


@overload
def parse_day(text: str | None, default: date, what: str) -> date: ...
@overload
def parse_day(text: str | None, default: None, what: str) -> date | None: ...
def parse_day(text: str | None, default: date | None, what: str) -> date | None:
    if not text:
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Refused(400, f"{what}应为日期，如 2025-10-01，收到 {text[:40]!r}") from None


def local_path(target: str) -> str:
    """A path on this site to go to after a form (never another site)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/", secure=request.url.scheme == "https")


def base_of(request: Request) -> str:
    """The path prefix the site is served under behind a reverse proxy (uvicorn's --root-path), "" at the root."""
    return request.scope.get("root_path", "").rstrip("/")


def path_of(request: Request) -> str:
    """The request's path inside the site (without the proxy's prefix): what `next` and the menu compare with."""
    path = request.url.path
    base = base_of(request)
    return path[len(base) :] or "/" if base and path.startswith(base) else path

"""The dashboard (期限看板, 事中监督): FastAPI with server-rendered Chinese pages, no script. Every page needs a
signed-in officer and shows only the cases the officer may see (qixian.web.access); every form carries a CSRF
token; the acknowledgement link from a chat message is the one page opened without signing in, its signed token
standing in for the sign-in."""

from __future__ import annotations

import math
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from qixian import ledgers
from qixian.campaign import duty_rules, record_duty
from qixian.digest import DIGESTED
from qixian.localtime import SHANGHAI, display, parse_local
from qixian.reports import Scope, day_start, report as build_report
from qixian.reportviews import TEMPLATES as REPORT_TEMPLATES, html_context
from qixian.rulebook.describe import explain
from qixian.rulebook.model import RulePack
from qixian.safetext import visible
from qixian.signing import BadToken, read_ack_token
from qixian.store.repository import LINK_LEVELS, AcknowledgeError, Store
from qixian.store.tables import OutboxRow
from qixian.clockview import LIGHTS
from qixian.web.access import Viewer, viewer_of
from qixian.web.auth import (NONCE_COOKIE, PAUSE, SESSION_COOKIE, SESSION_HOURS, check_password, csrf_ok, csrf_token,
                             new_session, paused_until, session_key)
from qixian.web.board import Board, Filters, Page

HERE = Path(__file__).parent
MAX_FORM = 16 * 1024
MAX_REPORT_DAYS = 400
REPORT_ROWS = 100  # rows of each report table on the page (the worst first); the CSV has them all
HEADERS = {  # no framing, no scripts, nothing loaded from elsewhere, no link token leaked in a Referer
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SERVER = {"proxy_headers": False, "log_level": "warning"}  # how uvicorn serves it: the app decides whom to believe


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

    def __init__(self, viewer: Viewer, nonce: str, directory=None):
        self.viewer, self.nonce, self.directory = viewer, nonce, directory


def create_app(store: Store, packs: RulePack | Callable[[], RulePack], *, secret: bytes, clock: Callable[[], datetime] | None = None,
               trusted_proxies: Sequence[str] = ()) -> FastAPI:
    """The dashboard over `store` and the pack in force (`packs()`, asked on each page so that a roll-out switches
    it; or one fixed RulePack); links are signed and form tokens keyed with `secret`; `clock` gives
    "now" (default: the real time in Beijing). Only a request from one of `trusted_proxies` (addresses or networks,
    qixian.web.auth.trusted_proxies) has its X-Forwarded-For and X-Forwarded-Proto believed: the browser's address
    is then the nearest one in X-Forwarded-For not of a trusted proxy; from anywhere else, the address connecting."""
    now = clock or (lambda: datetime.now(SHANGHAI))
    in_force = packs if callable(packs) else (lambda: packs)
    pages = jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(HERE / "templates"),
                                                           jinja2.FileSystemLoader(REPORT_TEMPLATES)]),
                               autoescape=True, finalize=visible, undefined=jinja2.StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True)
    pages.globals.update(display=display, lights=LIGHTS, DIGESTED=DIGESTED, quote=lambda text: quote(str(text), safe=""))
    app = FastAPI(title="期限看板", docs_url=None, redoc_url=None, openapi_url=None)
    if trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted_proxies))

    def render(name: str, request: Request, signed: Signed | None, status: int = 200, *, nonce: str = "",
               **context) -> HTMLResponse:
        nonce = signed.nonce if signed else nonce or request.cookies.get(NONCE_COOKIE) or ""
        html = pages.get_template(name).render(viewer=signed.viewer if signed else None, csrf=csrf_token(secret, nonce),
                                               base=_base(request), path=_path(request), now=now(), **context)
        return HTMLResponse(html, status_code=status)

    def signed_in(request: Request) -> Signed:
        cookie = request.cookies.get(SESSION_COOKIE)
        officer = store.web_session(session_key(cookie), now()) if cookie else None  # signed out, expired, new password
        directory = store.directory() if officer else None
        viewer = viewer_of(directory, officer) if officer else None
        if viewer is None:
            raise LoginRequired()  # (or the officer left the directory)
        return Signed(viewer, cookie, directory)

    async def posted(request: Request) -> dict[str, str]:
        """The form's fields, once its CSRF token matches the session (or, before sign-in, the nonce cookie)."""
        body = await request.body()
        if len(body) > MAX_FORM:
            raise Refused(413, "提交的内容过长")
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        nonces = [n for n in (request.cookies.get(SESSION_COOKIE), request.cookies.get(NONCE_COOKIE)) if n]
        if not any(csrf_ok(secret, n, fields.get("csrf")) for n in nonces):
            raise Refused(403, "表单已失效（缺少或不符的校验码）：请返回、刷新页面后重新提交")
        return fields

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired):
        target = _path(request) + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"{_base(request)}/login?next={quote(target, safe='')}", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return render("message.html.j2", request, None, exc.status, title="无法完成", message=exc.message)

    # -- signing in -------------------------------------------------------------------------------

    @app.get("/login")
    def login_page(request: Request, next: str = "/"):
        nonce = request.cookies.get(NONCE_COOKIE) or secrets.token_urlsafe(16)  # the login form's CSRF key
        response = render("login.html.j2", request, None, nonce=nonce, title="登录", next=_local(next), error="", officer="")
        if nonce != request.cookies.get(NONCE_COOKIE):
            _set_cookie(request, response, NONCE_COOKIE, nonce, None)
        return response

    @app.post("/login")
    def login(request: Request, fields: dict = Depends(posted)):
        officer, password = fields.get("officer", "").strip()[:100], fields.get("password", "")  # ids are that long at most
        client, moment = request.client.host if request.client else "", now()
        officer_failures = store.failed_sign_ins(moment - PAUSE, officer=officer)
        until = paused_until([at for at, where in officer_failures if where == client], [at for at, _ in officer_failures],
                             [at for at, _ in store.failed_sign_ins(moment - PAUSE, client=client)])
        if until is not None:  # answered before the password is looked at: a paused id says nothing of it
            wait = max(1, math.ceil((until - moment).total_seconds() / 60))
            return render("login.html.j2", request, None, 429, title="登录", next=_local(fields.get("next", "/")),
                          error=f"登录失败次数过多，暂停登录至 {display(until)}（约 {wait} 分钟）；忘记密码请联系运维重设",
                          officer=officer)
        stored = store.password_hash(officer)
        if not check_password(password, stored) or viewer_of(store.directory(), officer) is None:
            store.record_sign_in(officer, client, False, moment)
            return render("login.html.j2", request, None, 401, title="登录", next=_local(fields.get("next", "/")),
                          error="民警编号或密码不正确", officer=officer)
        store.record_sign_in(officer, client, True, moment)
        cookie = new_session()
        store.open_web_session(session_key(cookie), officer, moment, moment + timedelta(hours=SESSION_HOURS))
        response = RedirectResponse(_base(request) + _local(fields.get("next", "/")), status_code=303)
        _set_cookie(request, response, SESSION_COOKIE, cookie, SESSION_HOURS * 3600)
        return response

    @app.post("/logout")
    def logout(request: Request, fields: dict = Depends(posted)):
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:  # ended in the store: the cookie stops working wherever it was copied to
            store.end_web_session(session_key(cookie))
        response = RedirectResponse(f"{_base(request)}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/static/style.css")
    def style():
        return Response((HERE / "static" / "style.css").read_text(encoding="utf-8"), media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})

    # -- pages ------------------------------------------------------------------------------------

    def listing(request: Request, signed: Signed, title: str, colour: str | None):
        """A page of the open-clock list (`colour` fixed: the overdue page) with the filters of the query string."""
        pack = in_force()
        options = _options(signed.directory, signed.viewer)
        filters = _filters(request, options, pack.settings.groups, colour)
        page = Board(store, pack, signed.directory).clocks(signed.viewer, now(), filters, _page(request))
        return render("clocks.html.j2", request, signed, title=title, listing=page, colour_fixed=colour is not None,
                      chosen=_chosen(request), options=options, groups=pack.settings.groups,
                      paging=_pager(request, page))

    @app.get("/")
    def upcoming(request: Request, signed: Signed = Depends(signed_in)):
        return listing(request, signed, "期限一览", None)

    @app.get("/overdue")
    def overdue(request: Request, signed: Signed = Depends(signed_in)):
        return listing(request, signed, "超期", "red")

    @app.get("/anomalies")
    def anomalies(request: Request, signed: Signed = Depends(signed_in)):
        page = Board(store, in_force(), signed.directory).anomalies(signed.viewer, now(), _page(request))
        return render("anomalies.html.j2", request, signed, title="异常", found=page, paging=_pager(request, page))

    @app.get("/reminders")
    def reminders(request: Request, signed: Signed = Depends(signed_in)):
        page = Board(store, in_force(), signed.directory).reminders(signed.viewer, _page(request))
        return render("reminders.html.j2", request, signed, title="我的提醒", lines=page.lines, paging=_pager(request, page))

    @app.post("/reminders/{outbox_id}/ack")
    def acknowledge(request: Request, outbox_id: int, fields: dict = Depends(posted), signed: Signed = Depends(signed_in)):
        try:
            store.acknowledge(outbox_id, signed.viewer.officer, "dashboard", now())
        except AcknowledgeError as exc:
            raise Refused(400, str(exc)) from None
        return RedirectResponse(_base(request) + _local(fields.get("next", "/reminders")), status_code=303)

    @app.get("/case")
    def case(request: Request, id: str = "", signed: Signed = Depends(signed_in)):
        page = Board(store, in_force(), signed.directory).case(signed.viewer, id, now()) if id else None
        if page is None:
            raise Refused(404, f"没有案件 {id}，或不在您可查看的范围内")
        return render("case.html.j2", request, signed, title=f"案件 {id}", page=page)

    @app.get("/rules")
    def rules(request: Request, signed: Signed = Depends(signed_in)):
        pack = in_force()
        grouped = [(g, [r for r in pack.rules if (r.group or "") == g]) for g in (*pack.settings.groups, "")]
        return render("rules.html.j2", request, signed, title="规则", grouped=[(g, rs) for g, rs in grouped if rs])

    @app.get("/rules/{rule_id}")
    def rule(request: Request, rule_id: str, signed: Signed = Depends(signed_in)):
        pack = in_force()
        versions = pack.versions(rule_id)
        if not versions:
            raise Refused(404, f"规则包中没有规则 {rule_id}")
        return render("rule.html.j2", request, signed, title=versions[-1].name,
                      versions=[(r, explain(pack, r)) for r in versions])

    @app.get("/reports")
    def reports(request: Request, unit: str = "", signed: Signed = Depends(signed_in)):
        viewer, today = signed.viewer, now().date()
        first = _day(request.query_params.get("from"), today.replace(day=1), "起始日期")
        last = _day(request.query_params.get("to"), today, "截止日期")
        if last < first or (last - first).days > MAX_REPORT_DAYS:
            raise Refused(400, f"期间应为起始日期至截止日期，截止不早于起始，且不超过 {MAX_REPORT_DAYS} 天")
        units = _options(signed.directory, viewer)["units"]
        if viewer.role == "officer":
            scope = Scope(officer=viewer.officer)
        elif viewer.role == "leader":
            scope = Scope(unit=unit if unit in viewer.units else viewer.units[0])
        else:
            scope = Scope(unit=unit or None)
        if scope.unit is not None and scope.unit not in dict(units):
            raise Refused(400, f"没有单位 {scope.unit}")
        result = build_report(store, in_force(), day_start(first), day_start(last + timedelta(days=1)), now(), scope)
        return render("reports.html.j2", request, signed, title="考核报表", first=first, last=last, unit_choices=units,
                      unit=scope.unit or "", **html_context(result, REPORT_ROWS))

    @app.get("/campaign")
    def campaign_page(request: Request, signed: Signed = Depends(signed_in), recorded: str = ""):
        viewer, today = signed.viewer, now().date()
        first = _day(request.query_params.get("from"), today.replace(day=1), "起始日期")
        last = _day(request.query_params.get("to"), today, "截止日期")
        if last < first or (last - first).days > MAX_REPORT_DAYS:
            raise Refused(400, f"期间应为起始日期至截止日期，截止不早于起始，且不超过 {MAX_REPORT_DAYS} 天")
        pack = in_force()
        found = ledgers.build(store, pack, day_start(first), day_start(last + timedelta(days=1)), now(), viewer.scoped,
                              "全局" if viewer.role == "legal" else viewer.name, keep=viewer.sees)
        duty_units = [(u, signed.directory.unit_name(u)) for u in viewer.units] if viewer.role != "officer" else []
        return render("campaign.html.j2", request, signed, title="专项工作", first=first, last=last, duty_units=duty_units,
                      duties=[r.name for r in duty_rules(pack)], recorded=recorded[:200],
                      **ledgers.html_context(found, case_link=lambda case_id: f"{_base(request)}/case?id={quote(case_id, safe='')}"))

    @app.post("/campaign/duty")
    def campaign_duty(request: Request, fields: dict = Depends(posted), signed: Signed = Depends(signed_in)):
        """A unit leader (or legal staff) records a duty done for a unit they oversee."""
        viewer, unit = signed.viewer, fields.get("unit", "")
        if viewer.role == "officer" or unit not in viewer.units:
            raise Refused(403, "只能为本人负责的单位记录常态化工作")
        moment = now()
        try:
            at = parse_local(fields["at"]) if fields.get("at", "").strip() else moment
            report = record_duty(store, in_force(), unit, fields.get("duty", ""), at, moment, by=viewer.officer)
        except ValueError as exc:
            raise Refused(400, str(exc)) from None
        said = "已记录" if report.accepted else "此前已记录"
        return RedirectResponse(_base(request) + "/campaign?recorded=" + quote(f"{said}：{signed.directory.unit_name(unit)} "
                                                                            f"{fields.get('duty', '')}"), status_code=303)

    # -- the link in a chat message ---------------------------------------------------------------

    def linked(token: str) -> tuple[str, OutboxRow]:
        """(officer, reminder) of a link, while its officer may still acknowledge it (Store.acknowledgeable)."""
        try:
            outbox_id, officer = read_ack_token(secret, token, now())
            return officer, store.acknowledgeable(outbox_id, officer)
        except (BadToken, AcknowledgeError) as exc:
            raise Refused(400, str(exc)) from None

    def link_page(request: Request, token: str, row: OutboxRow, done: str) -> HTMLResponse:
        return render("ack_link.html.j2", request, None, title="已确认" if done else "确认收到提醒",
                      line=Board(store, in_force()).reminder(row), token=token, done=done, by_link=row.level in LINK_LEVELS)

    @app.get("/ack/{token}")
    def ack_link(request: Request, token: str):
        _, row = linked(token)
        return link_page(request, token, row, "")

    @app.post("/ack/{token}")
    def ack_by_link(request: Request, token: str):
        # the signed token is the credential, so no session or CSRF cookie: whoever is in the chat can use it, and it
        # acknowledges only as its officer, while on the case, and no overdue reminder (Store.acknowledge)
        officer, row = linked(token)
        try:
            _, new = store.acknowledge(row.id, officer, "link", now())
        except AcknowledgeError as exc:
            raise Refused(400, str(exc)) from None
        return link_page(request, token, row, "new" if new else "again")

    return app


FILTERS = ("unit", "officer", "group", "light", "from", "to")  # the list's query-string filters, kept in pager links


def _chosen(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FILTERS}


def _filters(request: Request, options: dict, groups: Sequence[str], colour: str | None) -> Filters:
    """The list's filters from the query string, each checked against what may be chosen (hostile input: a bad
    value is refused with a Chinese message, and nothing of it reaches SQL but as a bound parameter)."""
    chosen = _chosen(request)
    unit, officer, group, shade = chosen["unit"], chosen["officer"], chosen["group"], colour or chosen["light"]
    if unit and unit not in dict(options["units"]):
        raise Refused(400, "所选单位不存在，或不在您可查看的范围内")
    if officer and officer not in dict(options["officers"]):
        raise Refused(400, "所选民警不存在，或不在您可查看的范围内")
    if group and group not in groups:
        raise Refused(400, f"没有这个分组：可用的分组为 {'、'.join(groups)}")
    if shade and shade not in LIGHTS:
        raise Refused(400, f"状态筛选应为 {'、'.join(LIGHTS.values())} 之一")
    first = _day(chosen["from"], None, "期满起始日期")
    last = _day(chosen["to"], None, "期满截止日期")
    if first and last and last < first:
        raise Refused(400, "期满截止日期不能早于起始日期")
    return Filters(unit or None, officer or None, group or None, shade or None, first, last)


def _page(request: Request) -> int:
    text = request.query_params.get("page", "1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 7) or int(text) < 1:  # isdigit alone admits "²"
        raise Refused(400, "页码应为正整数，如 2")
    return int(text)


def _pager(request: Request, page: Page) -> dict:
    """The pager's links: this path with the same filters and another page number (None: no such page)."""
    kept = [(name, request.query_params[name]) for name in FILTERS if request.query_params.get(name)]

    def link(number: int) -> str | None:
        if not 1 <= number <= page.pages:
            return None
        return _base(request) + _path(request) + "?" + urlencode(kept + ([("page", str(number))] if number > 1 else []))

    return {"number": page.number, "pages": page.pages, "total": page.total, "first": page.offset + 1,
            "last": min(page.total, page.offset + page.size), "previous": link(min(page.number - 1, page.pages)),
            "next": link(page.number + 1), "beyond": page.number > page.pages}


def _options(directory, viewer: Viewer) -> dict[str, list[tuple[str, str]]]:
    """The units and officers the viewer may filter by: (id, name)."""
    if viewer.role == "officer":
        return {"units": [], "officers": []}
    units = [(u.id, u.name) for u in directory.units.values() if viewer.role == "legal" or u.id in viewer.units]
    chosen = {u for u, _ in units}
    officers = [(o.id, o.name) for o in directory.officers.values() if viewer.role == "legal" or o.unit in chosen]
    return {"units": units, "officers": officers}


def _day(text: str | None, default: date | None, what: str) -> date | None:
    if not text:
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Refused(400, f"{what}应为日期，如 2025-10-01，收到 {text[:40]!r}") from None


def _local(target: str) -> str:
    """A path on this site to go to after a form (never another site)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")


def _base(request: Request) -> str:
    """The path prefix the site is served under behind a reverse proxy (uvicorn's --root-path), "" at the root."""
    return request.scope.get("root_path", "").rstrip("/")


def _path(request: Request) -> str:
    """The request's path inside the site (without the proxy's prefix): what `next` and the menu compare with."""
    path = request.url.path
    base = _base(request)
    return path[len(base):] or "/" if base and path.startswith(base) else path

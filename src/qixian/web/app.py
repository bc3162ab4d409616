"""The dashboard (期限看板, 事中监督): FastAPI with server-rendered Chinese pages, no script. Every page needs a
signed-in officer and shows only the cases the officer may see (qixian.web.access); every form carries a CSRF
token; the acknowledgement link from a chat message is the one page opened without signing in, its signed token
standing in for the sign-in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypedDict
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from qixian.legaltime.localtime import SHANGHAI
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.supervision.snapshots import DEFAULT_FRESH
from qixian.web.auth import SESSION_COOKIE
from qixian.web.routes import auth, board, campaign, reminders, reports, rules
from qixian.web.site import LoginRequired, Refused, Site, base_of, path_of

HEADERS = {  # no framing, no scripts, nothing loaded from elsewhere, no link token leaked in a Referer
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ServerOptions(TypedDict):
    """uvicorn's options for the dashboard (keyword arguments of uvicorn.run and uvicorn.Config)."""

    proxy_headers: bool
    log_level: str


SERVER: ServerOptions = {"proxy_headers": False, "log_level": "warning"}  # how uvicorn serves it: the app decides whom to believe


def create_app(
    store: Store,
    packs: RulePack | Callable[[], RulePack],
    *,
    secret: bytes,
    clock: Callable[[], datetime] | None = None,
    trusted_proxies: Sequence[str] = (),
    report_fresh: int = DEFAULT_FRESH,
) -> FastAPI:
    """The dashboard over `store` and the pack in force (`packs()`, asked on each page so that a roll-out switches
    it; or one fixed RulePack); links are signed and form tokens keyed with `secret`; `clock` gives
    "now" (default: the real time in Beijing). Only a request from one of `trusted_proxies` (addresses or networks,
    qixian.web.auth.trusted_proxies) has its X-Forwarded-For and X-Forwarded-Proto believed: the browser's address
    is then the nearest one in X-Forwarded-For not of a trusted proxy; from anywhere else, the address connecting.
    The reports page serves a report snapshot at most `report_fresh` minutes old, else counts live."""
    site = Site(store, packs if callable(packs) else (lambda: packs), secret, clock or (lambda: datetime.now(SHANGHAI)), report_fresh)
    app = FastAPI(title="期限看板", docs_url=None, redoc_url=None, openapi_url=None)
    if trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted_proxies))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired):
        target = path_of(request) + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"{base_of(request)}/login?next={quote(target, safe='')}", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return site.render("message.html.j2", request, None, exc.status, title="无法完成", message=exc.message)

    for part in (auth, board, reminders, rules, reports, campaign):
        app.include_router(part.routes(site))
    return app

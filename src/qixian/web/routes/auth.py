"""Signing in and out: the sign-in page, the sign-in (paused after repeated failures), signing out."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from qixian.legaltime.localtime import display
from qixian.store.signins import PAUSE, paused_until
from qixian.web.access import viewer_of
from qixian.web.auth import NONCE_COOKIE, SESSION_COOKIE, SESSION_HOURS, check_password, new_session, session_key
from qixian.web.site import Site, base_of, local_path, set_cookie


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/login")
    def login_page(request: Request, next: str = "/"):
        nonce = request.cookies.get(NONCE_COOKIE) or secrets.token_urlsafe(16)  # the login form's CSRF key
        response = site.render("login.html.j2", request, None, nonce=nonce, title="登录", next=local_path(next), error="", officer="")
        if nonce != request.cookies.get(NONCE_COOKIE):
            set_cookie(request, response, NONCE_COOKIE, nonce, None)
        return response

    @router.post("/login")
    def login(request: Request, fields: dict = Depends(site.posted)):
        officer, password = fields.get("officer", "").strip()[:100], fields.get("password", "")  # ids are that long at most
        client, moment = request.client.host if request.client else "", site.now()
        officer_failures = site.store.failed_sign_ins(moment - PAUSE, officer=officer)
        until = paused_until(
            [at for at, where in officer_failures if where == client],
            [at for at, _ in officer_failures],
            [at for at, _ in site.store.failed_sign_ins(moment - PAUSE, client=client)],
        )
        if until is not None:  # answered before the password is looked at: a paused id says nothing of it
            wait = max(1, math.ceil((until - moment).total_seconds() / 60))
            return site.render(
                "login.html.j2",
                request,
                None,
                429,
                title="登录",
                next=local_path(fields.get("next", "/")),
                error=f"登录失败次数过多，暂停登录至 {display(until)}（约 {wait} 分钟）；忘记密码请联系运维重设",
                officer=officer,
            )
        stored = site.store.password_hash(officer)
        if not check_password(password, stored) or viewer_of(site.store.directory(), officer) is None:
            site.store.record_sign_in(officer, client, False, moment)
            return site.render(
                "login.html.j2", request, None, 401, title="登录", next=local_path(fields.get("next", "/")), error="民警编号或密码不正确", officer=officer
            )
        site.store.record_sign_in(officer, client, True, moment)
        cookie = new_session()
        site.store.open_web_session(session_key(cookie), officer, moment, moment + timedelta(hours=SESSION_HOURS))
        response = RedirectResponse(base_of(request) + local_path(fields.get("next", "/")), status_code=303)
        set_cookie(request, response, SESSION_COOKIE, cookie, SESSION_HOURS * 3600)
        return response

    @router.post("/logout")
    def logout(request: Request, fields: dict = Depends(site.posted)):
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:  # ended in the store: the cookie stops working wherever it was copied to
            site.store.end_web_session(session_key(cookie))
        response = RedirectResponse(f"{base_of(request)}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return router

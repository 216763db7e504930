"""Console logins: hashed passwords (backend.contact_centre), server-side sessions, CSRF, origin checks, roles."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from backend.contact_centre import AgentInfo
from backend.ratelimit import SlidingWindow
from console.config import CONFIG, CONTACT, Network
from console.errors import SESSION_EXPIRED

SESSION_COOKIE = "p95598_console"
LOGIN_CSRF_COOKIE = "p95598_login_csrf"
OPEN_PATHS = ("/console/login", "/console/static/")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class LoginThrottle:
    """Failed logins: at most `limit` per (user name, client address) and `per_address` per address."""

    def __init__(self, limit: int = 5, window: float = 300, per_address: int = 20):
        self._fails = SlidingWindow(limit, window)
        self._address = SlidingWindow(per_address, window)

    def _window(self, key: str) -> SlidingWindow:
        return self._address if key.startswith("ip:") else self._fails

    def blocked(self, *keys: str) -> bool:
        return any(self._window(key).full(key) for key in keys)

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._window(key).hit(key)


def client_address(request: web.Request, proxies: Sequence[Network] | None = None) -> str:
    """The client's address: X-Forwarded-For is believed only when the peer is one of our trusted proxies
    (the app's P95598_TRUSTED_PROXIES unless given), and then the right-most address they did not add."""
    peer = request.remote or ""
    proxies = request.app[CONFIG].trusted_proxies if proxies is None else proxies

    def trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in proxies)

    if not proxies or not trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            return hop
    return hops[0] if hops else peer


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on POST and WebSocket upgrades; a foreign page must not act with our cookie."""
    origin = request.headers.get("Origin")
    if origin is None:
        return request.method not in UNSAFE and request.headers.get("Upgrade", "").lower() != "websocket"
    return origin in (f"{request.scheme}://{request.host}", f"http://{request.host}", f"https://{request.host}")


def set_session_cookie(response: web.StreamResponse, token: str, ttl: dt.timedelta, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )


def set_login_csrf(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=1800, path="/console/login", httponly=True, samesite="Strict", secure=secure
    )


def login_csrf_ok(request: web.Request, submitted: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, submitted or "")


def agent_of(request: web.Request) -> AgentInfo:
    return request["agent"]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_auth_middleware() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Logins are looked up in the app's contact-centre store (opened when the app starts)."""

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/console") or path.startswith(OPEN_PATHS):
            return await handler(request)
        session = await asyncio.to_thread(request.app[CONTACT].login, request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            if path.startswith("/console/api") or path == "/console/ws" or request.method in UNSAFE:
                raise web.HTTPUnauthorized(text=SESSION_EXPIRED)
            raise web.HTTPFound("/console/login")
        request["agent"], request["csrf"] = session
        if not same_origin(request):
            raise web.HTTPForbidden(text="请在本系统的页面里操作。")
        if request.method in UNSAFE:
            sent = request.headers.get("X-CSRF-Token", "")
            if not sent and request.content_type == "application/x-www-form-urlencoded":
                sent = (await request.post()).get("csrf", "")
            if not hmac.compare_digest(str(sent), request["csrf"]):
                raise web.HTTPForbidden(text="页面已过期，请刷新后再试。")
        return await handler(request)

    return auth


def require_supervisor(request: web.Request) -> AgentInfo:
    agent = agent_of(request)
    if not agent.supervisor:
        raise web.HTTPForbidden(text="这个操作只有班长可以进行。")
    return agent

"""The field app's routes: the phone page at /field and its JSON API under /field/api.

    GET  /field/api/session                   who is logged in (and the CSRF token), or a login CSRF token
    POST /field/api/login | /field/api/logout
    GET  /field/api/orders                    my orders (a team leader: the team's)
    GET  /field/api/orders/{number}           one order, its timeline and the moves open now
    POST /field/api/orders/{number}/move      {"to": ..., "note": ...} as JSON, or a multipart form with a photo
    GET  /field/api/orders/{number}/photos/{name}   a photo, for the order's team only

Every change goes through WorkOrders.transition with the member's id: field moves only, the member's own
orders (or the team's, for its leader), checked against the state machine and recorded in the history.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from functools import cache, partial
from pathlib import Path

from aiohttp import web

from backend.photos import PhotoRefused, PhotoTooBig, reencode
from backend.workorders import Actor, Conflict, IllegalTransition, NotYours, OrderNotFound, OrderView
from backend.workorders.states import OrderStatus, label
from console.auth import client_address
from console.config import CONFIG, CONTACT
from field.api import LOGIN_COOKIE, SESSION_COOKIE, Refused, api, form_body, json_body, member_of, same, text_of
from field.config import FIELD, FieldDesk, FieldSettings
from field.orders import MOVE_LABELS, visible
from field.photos import content_type

S = OrderStatus
HERE = Path(__file__).parent
NOT_FOUND = "没有找到这张工单，或它不归您处理。"
DONE = {
    S.ACCEPTED: "已接单，请尽快联系客户。",
    S.EN_ROUTE: "已出发，路上注意安全。",
    S.ON_SITE: "已到达现场。",
    S.RESOLVED: "处理结果已提交，辛苦了！",
    S.CANNOT_COMPLETE: "已上报无法处理，调度中心会尽快安排。",
}
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def page_html() -> str:
    return (HERE / "page.html").read_text(encoding="utf-8")


async def page(request: web.Request) -> web.Response:
    return web.Response(text=page_html(), content_type="text/html", headers=PAGE_HEADERS)


def refused_move(current: str, to: str) -> str:
    """Why an order cannot make this move now, in words for the phone."""
    if current == S.WITHDRAWN:
        return "客户已撤销这张工单，无需再处理。"
    if current == S.CLOSED:
        return "这张工单已办结，不能再更改。"
    if to == S.ACCEPTED and current in (S.ACCEPTED, S.EN_ROUTE, S.ON_SITE):
        return f"这张工单已经接单了（现在是“{label(current)}”），无需重复操作。"
    if current == to:
        return f"这张工单已经是“{label(current)}”了，无需重复操作。"
    return f"这张工单现在是“{label(current)}”，不能“{MOVE_LABELS.get(to, to)}”。请刷新后查看。"


@api(staff=False)
async def session_info(request: web.Request) -> web.Response:
    desk = request.app[FIELD]
    found = await asyncio.to_thread(desk.logins.session, request.cookies.get(SESSION_COOKIE, ""))
    if found is not None:
        return web.json_response({"member": found[0].public(), "csrf": found[1]})
    token = secrets.token_urlsafe(24)
    response = web.json_response({"member": None, "csrf": token})
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=1800, path="/field/api/login", httponly=True, samesite="Strict",
        secure=desk.settings.secure_cookies,
    )  # fmt: skip
    return response


@api(staff=False)
async def login(request: web.Request) -> web.Response:
    desk = request.app[FIELD]
    if not same(request.cookies.get(LOGIN_COOKIE, ""), request.headers.get("X-CSRF-Token", "")):
        raise Refused(403, "页面已过期，请刷新后再登录。")
    body = await json_body(request)
    username, password = text_of(body, "username", 32), text_of(body, "password", 128, strip=False)
    # per account from this address, and per address: someone elsewhere can never lock a member out
    address = client_address(request, desk.settings.trusted_proxies)
    keys = (f"user:{username}@{address}", f"ip:{address}")
    if desk.throttle.blocked(*keys):
        raise Refused(429, "尝试次数太多，请五分钟后再试。")
    member = await asyncio.to_thread(desk.logins.authenticate, username, password)
    if member is None:
        desk.throttle.failed(*keys)
        raise Refused(401, "工号或密码不对。")
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # whatever session the browser brought is dropped: a fresh one is issued
        await asyncio.to_thread(desk.logins.logout, old)
    ttl = desk.settings.session_ttl
    token, csrf = await asyncio.to_thread(desk.logins.new_login, member.id, ttl)
    response = web.json_response({"member": member.public(), "csrf": csrf})
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(ttl.total_seconds()), path="/field", httponly=True, samesite="Strict",
        secure=desk.settings.secure_cookies,
    )  # fmt: skip
    response.del_cookie(LOGIN_COOKIE, path="/field/api/login")
    return response


@api()
async def logout(request: web.Request) -> web.Response:
    await asyncio.to_thread(request.app[FIELD].logins.logout, request.cookies.get(SESSION_COOKIE, ""))
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/field")
    return response


@api()
async def orders(request: web.Request) -> web.Response:
    listing = await asyncio.to_thread(request.app[FIELD].board.listing, member_of(request))
    return web.json_response({"orders": listing})


async def visible_order(request: web.Request) -> OrderView:
    """The order in the path, if the member may see it: a 404 otherwise (another member's order stays unseen)."""
    order = await asyncio.to_thread(request.app[FIELD].orders.get, request.match_info["number"].upper())
    if order is None or not visible(member_of(request), order):
        raise Refused(404, NOT_FOUND)
    return order


@api()
async def order(request: web.Request) -> web.Response:
    found = await visible_order(request)
    detail = await asyncio.to_thread(request.app[FIELD].board.detail, found, member_of(request))
    return web.json_response({"order": detail})


async def read_move(request: web.Request, desk: FieldDesk) -> tuple[OrderStatus, str, bytes | None]:
    """The wanted move, its note and a photo, checked before anything is looked up or stored."""
    if request.content_type == "multipart/form-data":
        body, photo = await form_body(request, desk.settings.max_photo_bytes)
    else:
        body, photo = await json_body(request), None
    to, note = text_of(body, "to", 32), text_of(body, "note")
    if to not in MOVE_LABELS:
        raise Refused(400, "不支持这个操作，请刷新页面后再试。")
    wanted = S(to)
    if wanted == S.RESOLVED and not note:
        raise Refused(400, "请填写处理情况。")
    if wanted == S.CANNOT_COMPLETE and not note:
        raise Refused(400, "请填写无法处理的原因。")
    if photo is not None and wanted != S.RESOLVED:
        raise Refused(400, "只有“处理完成”时可以附照片。")
    return wanted, note, photo


@api()
async def move(request: web.Request) -> web.Response:
    desk, member = request.app[FIELD], member_of(request)
    wanted, note, photo = await read_move(request, desk)
    jpeg = None
    if photo is not None:  # checked and encoded anew (no EXIF/GPS kept) before the order is even looked up
        try:
            jpeg, _, _ = await asyncio.to_thread(reencode, photo, desk.settings.max_photo_bytes)
        except PhotoRefused as e:
            raise Refused(413 if isinstance(e, PhotoTooBig) else 400, str(e)) from None
    found = await visible_order(request)
    saved = await asyncio.to_thread(desk.photos.save, found.number, jpeg, "jpg") if jpeg else None
    actor = Actor(f"field:{member.id}", "field_app", member.name)
    change = partial(
        desk.orders.transition, found.number, wanted, actor, note=note,
        detail={"photos": [saved]} if saved else None, member_id=member.id,
    )  # fmt: skip
    try:
        after = await asyncio.to_thread(change)
    except Exception as e:  # refused, or failed in its finished thread: nothing refers to the photo
        # (a cancelled request keeps it: its thread may still commit; an unrecorded file is never served)
        if saved:
            await asyncio.to_thread(desk.photos.discard, saved)
        if isinstance(e, OrderNotFound):
            raise Refused(404, NOT_FOUND) from None
        if isinstance(e, NotYours):
            raise Refused(403, "这张工单已改派给其他同事，您不能再操作。") from None
        if isinstance(e, IllegalTransition):
            raise Refused(409, refused_move(e.current, wanted)) from None
        if isinstance(e, Conflict):
            raise Refused(409, "这张工单刚被其他人更新了，请刷新后再看。") from None
        raise
    detail = await asyncio.to_thread(desk.board.detail, after, member)
    return web.json_response({"order": detail, "message": DONE[wanted]})


@api()
async def photo_file(request: web.Request) -> web.Response:
    """A recorded photo of an order, for members of the order's team only."""
    desk, member = request.app[FIELD], member_of(request)
    found = await asyncio.to_thread(desk.orders.get, request.match_info["number"].upper())
    relative = f"orders/{found.number if found else '-'}/{request.match_info['name']}"
    recorded = found is not None and any(relative in (e.detail.get("photos") or []) for e in found.timeline)
    path = desk.photos.path(relative)
    if found is None or found.team_id != member.team_id or not recorded or path is None:
        raise Refused(404, "没有找到这张照片。")
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        raise Refused(404, "没有找到这张照片。") from None
    return web.Response(
        body=data,
        content_type=content_type(relative),
        headers={"Cache-Control": "private, max-age=3600", "Content-Disposition": "inline"},
    )


async def console_desk(app: web.Application) -> AsyncIterator[None]:
    """Inside the console's app: the database its `database` context opened, its cookie and proxy settings."""
    cfg = app[CONFIG]
    settings = FieldSettings.from_env(secure_cookies=cfg.secure_cookies, proxies=cfg.trusted_proxies)
    app[FIELD] = FieldDesk(app[CONTACT].sessions, settings)
    yield


def add_routes(app: web.Application, desk: FieldDesk | None = None) -> None:
    """Mounts the field app; without `desk` it is built when the console's app starts (after its database)."""
    if desk is not None:
        app[FIELD] = desk
    else:
        app.cleanup_ctx.append(console_desk)
    r = app.router
    r.add_get("/field", page)
    r.add_get("/field/api/session", session_info)
    r.add_post("/field/api/login", login)
    r.add_post("/field/api/logout", logout)
    r.add_get("/field/api/orders", orders)
    number = "/field/api/orders/{number:[A-Za-z0-9]{1,16}}"
    r.add_get(number, order)
    r.add_post(number + "/move", move)
    r.add_get(number + r"/photos/{name:[0-9a-f]{24}\.(?:jpg|png|webp)}", photo_file)
    r.add_static("/field/static", HERE / "static")

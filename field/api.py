"""The field API's guard and body readers: same origin, a live session, the CSRF token on every POST, and
bodies read within their limits. Every refusal is a JSON {"error": "<a sentence for the phone>"}."""

from __future__ import annotations

import asyncio
import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from backend.photos import too_big
from console.auth import same_origin
from field.config import FIELD
from field.logins import Member

SESSION_COOKIE = "p95598_field"
LOGIN_COOKIE = "p95598_field_login"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
NOTE_LIMIT = 500  # characters of a note or a reason
FORM_SLACK = 64 * 1024  # a multipart body's own bytes beside the photo
MOVE_FIELDS = ("to", "note")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


def same(a: str, b: str) -> bool:
    return bool(a) and hmac.compare_digest(a.encode(), b.encode())


async def _authenticate(request: web.Request) -> None:
    desk = request.app[FIELD]
    found = await asyncio.to_thread(desk.logins.session, request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        raise Refused(401, "请先登录。")
    member, csrf = found
    if request.method in UNSAFE and not same(request.headers.get("X-CSRF-Token", ""), csrf):
        raise Refused(403, "页面已过期，请刷新后再试。")
    request["member"], request["csrf"] = member, csrf


def api(*, staff: bool = True) -> Callable[[Handler], Handler]:
    """A JSON endpoint: refused from a foreign page, and (`staff`) without a live session and its CSRF token."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                if not same_origin(request):
                    raise Refused(403, "请在本系统的页面里操作。")
                if staff:
                    await _authenticate(request)
                response = await handler(request)
            except Refused as r:
                response = web.json_response({"error": r.text}, status=r.status)
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response

        return guarded

    return wrap


def member_of(request: web.Request) -> Member:
    member: Member = request["member"]
    return member


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "提交的内容太多了。") from None
    except ValueError:  # not JSON, or not UTF-8
        raise Refused(400, "提交的格式不对，请刷新页面后再试。") from None
    if not isinstance(body, dict):
        raise Refused(400, "提交的格式不对，请刷新页面后再试。")
    return body


def text_of(body: dict[str, Any], key: str, limit: int = NOTE_LIMIT, *, strip: bool = True) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(400, f"“{key}”应是一段文字。")
    if len(value) > limit:
        raise Refused(400, f"内容太长了，请写在 {limit} 字以内。")
    return value.strip() if strip else value


async def _read_part(part: BodyPartReader, limit: int, status: int, message: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise Refused(status, message)
    return bytes(data)


async def form_body(request: web.Request, photo_limit: int) -> tuple[dict[str, Any], bytes | None]:
    """A multipart form (what the page sends with a photo): its text fields and the photo's bytes (None: none
    chosen). Read part by part: an oversize photo is refused as soon as it passes the limit."""
    if request.content_length is not None and request.content_length > photo_limit + FORM_SLACK:
        raise Refused(413, too_big(photo_limit))
    fields: dict[str, Any] = {}
    photo: bytes | None = None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name not in (*MOVE_FIELDS, "photo") or part.name in fields:
                raise Refused(400, "提交的表单不对，请刷新页面后再试。")
            if part.name == "photo":
                if photo is not None:
                    raise Refused(400, "一次只能附一张照片。")
                data = await _read_part(part, photo_limit, 413, too_big(photo_limit))
                photo = data if data or part.filename else None  # an empty file input sends an empty part
                continue
            raw = await _read_part(part, NOTE_LIMIT * 4, 400, f"内容太长了，请写在 {NOTE_LIMIT} 字以内。")
            fields[part.name] = raw.decode("utf-8")
    except (ValueError, AssertionError, KeyError, TypeError):  # a broken multipart body, or not UTF-8 text
        raise Refused(400, "提交的表单不对，请刷新页面后再试。") from None
    return fields, photo

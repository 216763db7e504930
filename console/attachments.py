"""Customers' photos (a meter's display, a downed line): checked by content, re-encoded, stored with the
conversation and its open case, and shown to the agents who may see that case.

A photo is checked by what it is, not what it claims, and encoded anew as a JPEG without its metadata (EXIF, GPS):
backend.photos, which the field app's site photos go through too.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from backend import models as m
from backend.contact_centre import ContactStore
from backend.photos import reencode
from console.agent_api import may_see
from console.auth import agent_of
from console.config import CONFIG, CONTACT

PHOTO_TEXT = "[图片]"  # what the bot and the agents see in the transcript


@dataclass(frozen=True)
class Photo:
    id: int
    conversation_id: str
    case_id: int | None
    path: str
    mime: str
    size: int
    width: int
    height: int


def _photo(a: m.Attachment) -> Photo:
    return Photo(a.id, a.conversation_id, a.case_id, a.path, a.mime, a.size, a.width, a.height)


class PhotoStore:
    """Attachment rows over the contact-centre database, files under one directory."""

    def __init__(self, contact: ContactStore, directory: Path):
        self.contact, self.directory = contact, directory

    def keep(self, conversation_id: str, case_id: int | None, data: bytes) -> Photo:
        """Checks and re-encodes the photo, writes it, records it; PhotoRefused stores nothing."""
        jpeg, width, height = reencode(data)
        day = m.utcnow().strftime("%Y%m%d")
        relative = f"{day}/{secrets.token_hex(12)}.jpg"
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(jpeg)
        try:
            with self.contact.sessions.begin() as s:
                row = m.Attachment(
                    conversation_id=conversation_id,
                    case_id=case_id,
                    path=relative,
                    mime="image/jpeg",
                    size=len(jpeg),
                    width=width,
                    height=height,
                    sha256=hashlib.sha256(jpeg).hexdigest(),
                )
                s.add(row)
                s.flush()
                return _photo(row)
        except Exception:
            target.unlink(missing_ok=True)
            raise

    def photo(self, photo_id: int) -> Photo | None:
        with self.contact.sessions() as s:
            a = s.get(m.Attachment, photo_id)
            return _photo(a) if a else None

    def of_conversation(self, conversation_id: str) -> list[Photo]:
        with self.contact.sessions() as s:
            q = select(m.Attachment).where(m.Attachment.conversation_id == conversation_id).order_by(m.Attachment.id)
            return [_photo(a) for a in s.scalars(q)]

    def read(self, photo: Photo) -> bytes | None:
        path = (self.directory / photo.path).resolve()
        if self.directory.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()


def photo_store(request: web.Request) -> PhotoStore:
    return PhotoStore(request.app[CONTACT], Path(request.app[CONFIG].attachments_dir))


def _id(request: web.Request, name: str) -> int:
    try:
        value = int(request.match_info[name])
    except ValueError:
        value = 0
    if not 0 < value < 2**31:
        raise web.HTTPNotFound(text="没有找到这张照片。")
    return value


def image_response(data: bytes) -> web.Response:
    return web.Response(
        body=data,
        content_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600", "Content-Disposition": "inline"},
    )


async def _visible_case_photos(request: web.Request) -> tuple[PhotoStore, list[Photo], int]:
    """The photos of the conversation of a case this agent may see (sent before or during the case)."""
    case_id = _id(request, "case_id")
    case = await asyncio.to_thread(request.app[CONTACT].case, case_id)
    if case is None:
        raise web.HTTPNotFound(text="没有找到这个工单。")
    if not may_see(agent_of(request), case):
        raise web.HTTPForbidden(text="这位客户正由其他同事接待，您看不到他的照片。")
    store = photo_store(request)
    return store, await asyncio.to_thread(store.of_conversation, case.conversation_id), case_id


async def case_photos(request: web.Request) -> web.Response:
    _, photos, case_id = await _visible_case_photos(request)
    return web.json_response(
        [
            {"id": p.id, "url": f"/console/cases/{case_id}/photos/{p.id}", "width": p.width, "height": p.height}
            for p in photos
        ]
    )


async def case_photo(request: web.Request) -> web.Response:
    store, photos, _ = await _visible_case_photos(request)
    wanted = _id(request, "photo_id")
    photo = next((p for p in photos if p.id == wanted), None)
    data = await asyncio.to_thread(store.read, photo) if photo else None
    if data is None:
        raise web.HTTPNotFound(text="没有找到这张照片。")
    return image_response(data)


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/console/api/cases/{case_id:\d+}/photos", case_photos)
    app.router.add_get(r"/console/cases/{case_id:\d+}/photos/{photo_id:\d+}", case_photo)

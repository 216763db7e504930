"""The field app on a bare aiohttp app over a real seeded database (no product stack), and phones to drive it."""

from __future__ import annotations

import asyncio
import io
import os
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image, ImageStat
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis import SqlCIS
from backend.contact_centre.agents import hash_password
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.synthetic import seed
from field.config import FieldDesk, FieldSettings
from field.routes import add_routes

PASSWORD = "field-pass-95598"
ADDRESS = "城东区和平路18号3单元"  # team 1 (城东区一网格)


def png(width: int = 8, height: int = 8, noise: bool = False) -> bytes:
    """A valid PNG (RGB): flat and small, or noise (as large as its pixels: noise does not compress)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + (os.urandom(3 * width) if noise else b"\x30\x90\x60" * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def assert_reencoded(stored: bytes, sent: bytes) -> None:
    """What the field app keeps of a sent photo: the same picture (size and colours), as a fresh JPEG with no
    metadata (no EXIF, so no GPS position of the site or the phone that took it)."""
    with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(sent)) as original:
        assert (kept.format, kept.mode, kept.size) == ("JPEG", "RGB", original.size)
        assert not kept.getexif() and "exif" not in kept.info and b"Exif" not in stored
        was, now = ImageStat.Stat(original.convert("RGB")).mean, ImageStat.Stat(kept).mean
        assert all(abs(a - b) < 4 for a, b in zip(was, now, strict=True)), (was, now)


def give_passwords(sessions: sessionmaker[Session], teams: tuple[int, ...] = (1, 2)) -> None:
    """Test passwords (a cheap scrypt cost: the check reads the cost from the stored hash)."""
    with sessions.begin() as s:
        for member in s.scalars(select(m.TeamMember).where(m.TeamMember.team_id.in_(teams))):
            member.password_hash = hash_password(PASSWORD, n=2**10)


@dataclass
class World:
    sessions: sessionmaker[Session]
    uploads: Path
    desk: FieldDesk
    app: web.Application

    def new_order(self, address: str = ADDRESS, conversation: str = "web-field-test") -> tuple[str, int]:
        """A repair reported in chat, dispatched on creation: (number, assignee id)."""
        info = SqlCIS(self.sessions).create_work_order(
            "fault_repair", "chat", {"address": address, "fault_desc": "家里整栋楼停电了"}, conversation_id=conversation
        )
        with self.sessions() as s:
            order = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == info.number)).one()
            assert order.status == "dispatched" and order.assignee_id is not None
            return order.number, order.assignee_id

    def snapshot(self, number: str) -> tuple[object, ...]:
        """Everything a refused request must leave as it was: the order, its history, its notices, the photos."""
        with self.sessions() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
            events = s.scalar(select(func.count()).where(m.WorkOrderEvent.order_id == o.id))
            notices = s.scalar(select(func.count()).where(m.OrderNotice.order_id == o.id))
            row = (o.status, o.version, o.assignee_id, o.resolved_at, o.due_at, o.supervision_stage)
        files = sorted(str(p) for p in self.uploads.rglob("*") if p.is_file())
        return row, events, notices, files

    def member(self, member_id: int) -> m.TeamMember:
        with self.sessions() as s:
            member = s.get(m.TeamMember, member_id)
            assert member is not None
            return member


def build_world(tmp_path: Path, engine_url: str | None = None, sessions: sessionmaker[Session] | None = None) -> World:
    if sessions is None:
        engine = make_engine(engine_url or f"sqlite:///{tmp_path / 'field.db'}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
    seed(sessions, customers=50)
    give_passwords(sessions)
    uploads = tmp_path / "uploads"
    desk = FieldDesk(sessions, FieldSettings(uploads=uploads))
    app = web.Application()
    add_routes(app, desk)
    return World(sessions, uploads, desk, app)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path)


class Phone:
    """One phone's browser: its own cookies, the page's Origin on every request, the CSRF token it was given."""

    def __init__(self, server: TestServer):
        self.base = str(server.make_url("")).rstrip("/")
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": self.base})
        self.csrf = ""

    async def __aenter__(self) -> Phone:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def get(self, path: str) -> tuple[int, dict]:
        async with self.http.get(self.base + path) as r:
            return r.status, await r.json() if r.content_type == "application/json" else {}

    async def post(self, path: str, *, csrf: bool = True, **kw: object) -> tuple[int, dict]:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        headers.update(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
        async with self.http.post(self.base + path, headers=headers, **kw) as r:  # type: ignore[arg-type]
            return r.status, await r.json() if r.content_type == "application/json" else {}

    async def login(self, username: str, password: str = PASSWORD) -> tuple[int, dict]:
        status, data = await self.get("/field/api/session")
        assert status == 200 and data["member"] is None
        self.csrf = data["csrf"]
        status, data = await self.post("/field/api/login", json={"username": username, "password": password})
        if status == 200:
            self.csrf = data["csrf"]
        return status, data

    async def move(self, number: str, to: str, note: str = "") -> tuple[int, dict]:
        return await self.post(f"/field/api/orders/{number}/move", json={"to": to, "note": note})

    async def move_with_photo(
        self, number: str, to: str, note: str, photo: bytes, name: str = "site.png", kind: str = "image/png"
    ) -> tuple[int, dict]:
        form = aiohttp.FormData()
        form.add_field("to", to)
        form.add_field("note", note)
        form.add_field("photo", photo, filename=name, content_type=kind)
        return await self.post(f"/field/api/orders/{number}/move", data=form)


Scenario = Callable[[TestServer], Awaitable[None]]


def run(world: World, scenario: Scenario) -> None:
    async def main() -> None:
        server = TestServer(world.app)
        async with server:
            await scenario(server)

    asyncio.run(main())


def history(world: World, number: str) -> list[m.WorkOrderEvent]:
    with world.sessions() as s:
        order = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        return list(order.history)

"""A storm day, time-compressed: about 2,000 orders in 6 hours across the 24 areas, worked by scripted grid
staff through the field app's HTTP API, chased by the supervision sweep, closed, and followed up by survey.

The clock is virtual: `backend.models.utcnow` (what the field app, WorkOrders and the outbox read) and the
NoticeRunner's clock are one simulated clock that jumps from event to event, with a runner tick (supervision
sweep + notices sent) every `tick` simulated seconds in between. Nothing waits: six hours take a few minutes.

- Orders are filed as `SqlCIS.create_work_order` files them (same steps: order row, number, first history
  entry, `lifecycle.intake`), only with the simulated time as the creation time.
- Staff learn of an order from its "assigned"/"page" SMS (the runner delivers it to a recording sender) and
  answer from their phone: a real HTTP session per member against the field app (/field/api/login, then
  /field/api/orders/{number}/move), mounted on a local port with the field app's own routes.
- The dispatch centre re-dispatches an order the field could not complete (WorkOrders.redispatch, as the
  console's re-dispatch button does); resolved orders are closed by the sweep (close_after) and surveyed
  (survey_delay) on the customer's channel: chat or SMS.
- Customers answer surveys through WorkOrders.answer_survey (what the console's /sms/inbound and the chat
  buttons call), at the response rates below.

Crews are not a limited resource here: every order gets its own response-time draws (see BEHAVIOUR), so
what is measured is the loop under storm volume (dispatch, limits, escalations, notices, surveys), not a
crew-capacity model.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
from aiohttp import web
from sqlalchemy import select

from backend import models as m
from backend.contact_centre.agents import hash_password
from backend.workorders import Actor, WorkOrders, lifecycle
from backend.workorders.outbox import Notice
from backend.workorders.runner import NoticeRunner
from channels.testing.fake_sms import free_port
from field.config import FieldDesk, FieldSettings
from field.routes import add_routes

START = dt.datetime(2026, 7, 14, 6, 0)  # 14:00 Asia/Shanghai on a Tuesday: a summer thunderstorm afternoon
ARRIVALS_BY_HOUR = [0.10, 0.24, 0.24, 0.18, 0.13, 0.11]  # the storm's shape over the six hours
MIX = [
    ("fault_repair", "normal", 74), ("fault_repair", "urgent", 6), ("safety_hazard", "urgent", 5),
    ("safety_hazard", "normal", 3), ("complaint", "normal", 5), ("power_quality", "normal", 3),
    ("appliance_damage_claim", "normal", 2), ("meter_issue", "normal", 2),
]  # fmt: skip
URGENT_WORK = {"fault_repair", "safety_hazard"}  # worked at once, on site
PASSWORD = "storm-pass-95598"
# the staff and customers simulated (minutes unless said)
BEHAVIOUR = {
    "accept": "urgent work: 85% within lognormal(median 3, sigma 0.6), 15% busy: 8-25; other work: 30-300",
    "depart": "urgent work 0-5 after accepting; other field work (power quality, meters, damage claims) 60-600",
    "travel": "urban 20-60, rural 30-80, remote 40-110",
    "on_site": "6% cannot complete after 10-30 (re-dispatched by the centre 10-20 later); else resolved "
    "after lognormal(median 50, sigma 0.5), 12% long jobs 180-360",
    "complaints": "accepted after 30-300, replied (resolved) 60-300 later",
    "surveys": "answered by 65% of chat and 35% of SMS customers after lognormal(median 8); scores 5:55% "
    "4:25% 3:10% 2:6% 1:4%",
}
TRAVEL = {"urban": (20, 60), "rural": (30, 80), "remote": (40, 110)}
SCORES = [(5, 55), (4, 25), (3, 10), (2, 6), (1, 4)]
ANSWER_RATE = {"chat": 0.65, "sms": 0.35}


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Phone:
    """A member's phone: its own cookies, the page's Origin, the CSRF token of its login."""

    def __init__(self, base: str, member_id: int):
        self.base, self.username = base, f"g{member_id}"
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": base})
        self.csrf = ""

    async def _post(self, path: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}) as r:
            return r.status, await r.json()

    async def login(self) -> None:
        async with self.http.get(self.base + "/field/api/session") as r:
            self.csrf = (await r.json())["csrf"]
        status, data = await self._post("/field/api/login", {"username": self.username, "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"{self.username} could not log in: {status} {data}")
        self.csrf = data["csrf"]

    async def move(self, number: str, to: str, note: str) -> int:
        if not self.csrf:
            await self.login()
        status, _ = await self._post(f"/field/api/orders/{number}/move", {"to": to, "note": note})
        return status


class Storm:
    def __init__(self, sessions, base: str, rng: random.Random, clock: Clock):
        self.sessions, self.base, self.rng, self.clock = sessions, base, rng, clock
        self.desk = WorkOrders(sessions)
        self.queue: list[tuple[dt.datetime, int, Callable[..., Awaitable[None]], tuple]] = []
        self.seq = 0
        self.phones: dict[int, Phone] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.moves: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.move_ms: list[float] = []
        self.delivered: Counter[str] = Counter()
        self.redispatched = 0

    def at(self, when: dt.datetime, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        heapq.heappush(self.queue, (when, self.seq, fn, args))
        self.seq += 1

    def later(self, minutes: float, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        self.at(self.clock.now + dt.timedelta(minutes=minutes), fn, *args)

    # ---- customers ----
    async def file(self, r: dict[str, Any]) -> None:
        now = self.clock.now
        with self.sessions.begin() as s:
            o = m.WorkOrder(
                number=f"T{self.seq}", function_id=r["function_id"], status="received", priority=r["priority"],
                channel=r["channel"], conversation_id=r["conversation_id"], details=r["details"], created_at=now,
            )  # fmt: skip
            s.add(o)
            s.flush()
            o.number = lifecycle.order_number(o.id, now)
            actor = Actor("bot", r["channel"], "智能客服")
            lifecycle.record(o, actor, "客户来电/留言受理", now=now)
            lifecycle.intake(s, o, actor, now)
            self.orders[o.number] = {**r, "area_class": o.area_class, "team_id": o.team_id}

    async def answer(self, channel: str, recipient: str) -> None:
        score = self.rng.choices([x for x, _ in SCORES], [w for _, w in SCORES])[0]
        await asyncio.to_thread(self.desk.answer_survey, channel, recipient, score)

    # ---- notices, as the runner delivers them ----
    async def send(self, notice: Notice) -> None:
        self.delivered[notice.kind] += 1
        if notice.kind in ("assigned", "page"):
            with self.sessions() as s:
                assignee = s.scalar(select(m.WorkOrder.assignee_id).where(m.WorkOrder.id == notice.order_id))
            if notice.payload.get("member") == assignee:  # a page reaches everyone on duty; the assignee acts
                self.start_work(notice.payload["number"], int(assignee))
        elif notice.kind == "survey" and self.rng.random() < ANSWER_RATE.get(notice.channel, 0):
            self.later(self.rng.lognormvariate(2.08, 0.7), self.answer, notice.channel, notice.recipient)

    # ---- staff ----
    def start_work(self, number: str, member: int) -> None:
        function_id = self.orders[number]["function_id"]
        rng = self.rng
        if function_id in URGENT_WORK:
            wait = rng.lognormvariate(1.1, 0.6) if rng.random() < 0.85 else rng.uniform(8, 25)
        else:
            wait = rng.uniform(30, 300)
        self.later(wait, self.move, number, member, "accepted", "")

    async def move(self, number: str, member: int, to: str, note: str) -> None:
        phone = self.phones.get(member) or self.phones.setdefault(member, Phone(self.base, member))
        t = time.perf_counter()
        status = await phone.move(number, to, note)
        self.move_ms.append((time.perf_counter() - t) * 1000)
        if status != 200:
            self.refused[f"{to} {status}"] += 1
            return
        self.moves[to] += 1
        self.plan_next(number, member, to)

    def plan_next(self, number: str, member: int, done: str) -> None:
        order, rng = self.orders[number], self.rng
        urgent_work = order["function_id"] in URGENT_WORK
        if done == "accepted" and order["function_id"] == "complaint":
            self.later(rng.uniform(60, 300), self.move, number, member, "resolved", "已回复客户")
        elif done == "accepted":
            self.later(rng.uniform(0, 5) if urgent_work else rng.uniform(60, 600), self.move, number, member,
                       "en_route", "")  # fmt: skip
        elif done == "en_route":
            self.later(rng.uniform(*TRAVEL[order["area_class"]]), self.move, number, member, "on_site", "")
        elif done == "on_site" and rng.random() < 0.06:
            self.later(rng.uniform(10, 30), self.move, number, member, "cannot_complete", "需停电检修，现场条件不具备")
        elif done == "on_site":
            work = rng.uniform(180, 360) if rng.random() < 0.12 else rng.lognormvariate(3.9, 0.5)
            self.later(work, self.move, number, member, "resolved", "已处理，恢复供电")
        elif done == "cannot_complete":
            self.later(rng.uniform(10, 20), self.redispatch, number, member)

    async def redispatch(self, number: str, member: int) -> None:
        team = self.orders[number]["team_id"]
        to = team * 100 + (1 if member != team * 100 + 1 else 5)  # the leader, else the 24-hour repair member
        actor = Actor("agent:1001", "console", "调度员")
        await asyncio.to_thread(self.desk.redispatch, number, to, actor, "现场无法处理，改派")
        self.redispatched += 1

    # ---- the day ----
    async def run(self, runner: NoticeRunner, until: dt.datetime, tick: dt.timedelta) -> None:
        next_tick = self.clock.now
        while True:
            when = self.queue[0][0] if self.queue else until
            while next_tick <= min(when, until):
                self.clock.now = next_tick
                await runner.tick()
                next_tick += tick
            if not self.queue or when > until:
                return
            _, _, fn, args = heapq.heappop(self.queue)
            self.clock.now = when
            await fn(*args)


def requests(sessions, n: int, rng: random.Random) -> list[tuple[dt.datetime, dict[str, Any]]]:
    """n orders over six hours, areas weighted (the storm hits some harder), chat or phone customers."""
    with sessions() as s:
        areas = [(a.district, list(a.streets or [])) for a in s.scalars(select(m.Area).order_by(m.Area.code))]
    weights = [rng.uniform(0.5, 2.0) for _ in areas]
    mix = [(f, p) for f, p, w in MIX for _ in range(w)]
    out = []
    for i in range(n):
        hour = rng.choices(range(len(ARRIVALS_BY_HOUR)), ARRIVALS_BY_HOUR)[0]
        when = START + dt.timedelta(hours=hour, seconds=rng.uniform(0, 3600))
        district, streets = rng.choices(areas, weights)[0]
        function_id, priority = rng.choice(mix)
        chat = rng.random() < 0.45
        details: dict[str, Any] = {"address": f"{district}{rng.choice(streets)}{rng.randint(1, 300)}号"}
        details["fault_desc"] = "雷雨后停电" if function_id == "fault_repair" else "客户来电反映"
        if not chat:
            details["contact_phone"] = f"135{i:08d}"
        out.append((when, {"function_id": function_id, "priority": priority, "channel": "chat" if chat else "voice",
                           "conversation_id": f"storm-{i}" if chat else None, "details": details}))  # fmt: skip
    return sorted(out, key=lambda x: x[0])


def give_passwords(sessions) -> None:
    stored = hash_password(PASSWORD, n=2**10)  # one cheap hash for everyone: logins are not what is measured
    with sessions.begin() as s:
        for member in s.scalars(select(m.TeamMember)):
            member.password_hash = stored


class Recorder:
    """The runner's sender for one channel: hands each notice to the storm (as if delivered)."""

    def __init__(self, storm: Storm):
        self.storm = storm

    async def send(self, notice: Notice) -> None:
        await self.storm.send(notice)


async def simulate(sessions, orders: int = 2000, hours_after: float = 6.0, tick_s: float = 15.0, seed_value: int = 16):
    """Runs the day; (the storm's own counts, real seconds taken). The database keeps the rest."""
    rng = random.Random(seed_value)
    give_passwords(sessions)
    clock = Clock(START)
    with tempfile.TemporaryDirectory() as uploads, mock.patch.object(m, "utcnow", clock):
        app = web.Application()
        settings = FieldSettings(uploads=Path(uploads), session_ttl=dt.timedelta(hours=24))
        add_routes(app, FieldDesk(sessions, settings))
        runner_web = web.AppRunner(app, access_log=None)
        await runner_web.setup()
        port = free_port()
        await web.TCPSite(runner_web, "127.0.0.1", port).start()
        storm = Storm(sessions, f"http://127.0.0.1:{port}", rng, clock)
        for when, r in requests(sessions, orders, rng):
            storm.at(when, storm.file, r)
        senders = {channel: Recorder(storm) for channel in ("sms", "chat", "console")}
        runner = NoticeRunner(sessions, senders, clock=clock)  # type: ignore[arg-type]
        t = time.time()
        try:
            end = START + dt.timedelta(hours=len(ARRIVALS_BY_HOUR) + hours_after)
            await storm.run(runner, end, dt.timedelta(seconds=tick_s))
        finally:
            for phone in storm.phones.values():
                await phone.http.close()
            await runner_web.cleanup()
        return storm, time.time() - t

"""What the work-order benchmarks share: a scratch database (SQLite file or PostgreSQL database) seeded with the
24 areas and their grid teams, open orders written in bulk (their time limits computed by the product's own
`lifecycle.schedule`), a fake SMS gateway that notes when each message arrived, and worker processes
(`python -m backend.workorders run`) started and killed by their process id."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.synthetic import seed
from backend.workorders.clock import due_stage, next_check
from backend.workorders.lifecycle import schedule
from channels.testing.fake_sms import FakeSmsGateway

ROOT = Path(__file__).resolve().parents[2]
PG_BASE = os.environ.get("P95598_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/p95598")
SMS_KEY = "bench-sms-key"


@contextlib.contextmanager
def scratch_database(kind: str, customers: int = 300) -> Iterator[str]:
    """The URL of a fresh, migrated and seeded database of this kind (sqlite | postgresql), dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            url = f"sqlite:///{d}/workorders.db"
            prepare(url, customers)
            yield url
        return
    base = make_url(PG_BASE)
    name = f"p95598_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        prepare(url, customers)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, customers: int = 300) -> None:
    """Migrates and seeds (areas, grid teams and members, customers) the database at url."""
    engine = make_engine(url)
    upgrade(engine)
    seed(make_sessionmaker(engine), customers=customers)
    engine.dispose()


def open_sessions(url: str) -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(url))


@dataclass(frozen=True)
class Staff:
    id: int
    team_id: int
    phone: str
    leader: bool
    skills: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    areas: list[tuple[str, str, int, list[str]]]  # code, class, team id, streets
    staff: dict[int, list[Staff]]  # team id -> members

    def member_for(self, team_id: int, function_id: str, i: int) -> Staff:
        able = [p for p in self.staff[team_id] if function_id in p.skills] or self.staff[team_id]
        return able[i % len(able)]


def load_grid(sessions: sessionmaker[Session]) -> Grid:
    with sessions() as s:
        teams = {t.area_code: t.id for t in s.scalars(select(m.GridTeam))}
        areas = [(a.code, a.area_class, teams[a.code], list(a.streets or [])) for a in s.scalars(select(m.Area))]
        staff: dict[int, list[Staff]] = {}
        for p in s.scalars(select(m.TeamMember).order_by(m.TeamMember.id)):
            staff.setdefault(p.team_id, []).append(Staff(p.id, p.team_id, p.phone, p.leader, tuple(p.skills or [])))
    return Grid(sorted(areas), staff)


def order_row(
    grid: Grid,
    number: str,
    function_id: str,
    area: int,
    clock_start: dt.datetime,
    *,
    status: str = "dispatched",
    priority: str = "normal",
    i: int = 0,
) -> m.WorkOrder:
    """An order as dispatch leaves it (area, team, assignee), held to its limit by `lifecycle.schedule`."""
    code, area_class, team_id, streets = grid.areas[area % len(grid.areas)]
    member = grid.member_for(team_id, function_id, i)
    o = m.WorkOrder(
        number=number,
        function_id=function_id,
        status=status,
        priority=priority,
        channel="voice",
        details={"address": f"{streets[0] if streets else ''}{i % 200 + 1}号", "contact_phone": f"137{i:08d}"},
        created_at=clock_start,
        area_code=code,
        area_class=area_class,
        team_id=team_id,
        assignee_id=member.id,
        clock_start=clock_start,
    )
    schedule(o)
    return o


BACKGROUND_FUNCTIONS = [
    ("fault_repair", 40), ("meter_issue", 10), ("power_quality", 8), ("complaint", 10), ("new_connection", 12),
    ("temporary_supply", 4), ("appliance_damage_claim", 4), ("arrears_reconnect", 4), ("theft_report", 3),
    ("tou_apply", 3), ("suggestion", 2),
]  # fmt: skip
FIELD_STATES = ["dispatched", "accepted", "en_route", "on_site"]


def background_orders(
    sessions: sessionmaker[Session], grid: Grid, n: int, now: dt.datetime, quiet_until: dt.datetime, seed_value: int = 1
) -> dict[int, int]:
    """n open orders of many kinds and ages (up to 1.1 times the time their current step allows), each at the
    supervision stage a sweep would have left it in; none needs looking at before `quiet_until`. The number at
    each stage."""
    rng = random.Random(seed_value)
    functions = [f for f, w in BACKGROUND_FUNCTIONS for _ in range(w)]
    stages: dict[int, int] = {}
    rows = []
    for i in range(n):
        function_id = rng.choice(functions)
        status = rng.choice(FIELD_STATES if function_id in ("fault_repair", "meter_issue") else FIELD_STATES[:2])
        area = rng.randrange(24)
        fresh = order_row(grid, f"B{i:09d}", function_id, area, now, status=status, i=i)
        start = now - dt.timedelta(seconds=fresh.step_allowed_s * rng.uniform(0, 1.1))  # a few past their step
        o = order_row(grid, f"B{i:09d}", function_id, area, start, status=status, i=i)
        if o.due_at is not None:
            o.supervision_stage = due_stage(o, now)
            o.next_check_at = next_check(o)
        if o.next_check_at is not None and o.next_check_at <= quiet_until:  # would fire during the measurement
            o = order_row(grid, f"B{i:09d}", function_id, rng.randrange(24), now, status=status, i=i)
        stages[o.supervision_stage or 0] = stages.get(o.supervision_stage or 0, 0) + 1
        rows.append(o)
    insert(sessions, rows)
    return stages


def insert(sessions: sessionmaker[Session], rows: list[m.WorkOrder], chunk: int = 2000) -> None:
    for k in range(0, len(rows), chunk):
        with sessions.begin() as s:
            s.add_all(rows[k : k + chunk])


def utc(wall: float) -> dt.datetime:
    """A time.time() value as the naive UTC the database keeps."""
    return dt.datetime.fromtimestamp(wall, dt.timezone.utc).replace(tzinfo=None)


class TimedSmsGateway(FakeSmsGateway):
    """The fake gateway, also noting when each message arrived (wall clock, for delays). `shared`: a second front
    end (its own port) of the same gateway: one record of messages, one de-duplication by id. `on_message` is
    called once, when the next message has been received and before it is answered."""

    def __init__(self, key: str = SMS_KEY, shared: TimedSmsGateway | None = None):
        super().__init__(key)
        self.arrived: dict[str, float] = {}
        self.on_message: Callable[[str], None] | None = None
        if shared is not None:
            self.received, self.delivered, self.arrived = shared.received, shared.delivered, shared.arrived

    async def _send(self, request: web.Request) -> web.Response:
        response = await super()._send(request)
        if response.status == 200 and self.received:
            message_id = str(self.received[-1]["id"])
            self.arrived.setdefault(message_id, time.time())
            if self.on_message is not None:
                hook, self.on_message = self.on_message, None
                hook(message_id)
        return response


class Worker:
    """`python -m backend.workorders run` in a process of its own, with SMS through the given gateway."""

    def __init__(self, url: str, sms_url: str, name: str, logs: Path, interval: float = 1.0):
        self.url, self.sms_url, self.name, self.logs, self.interval = url, sms_url, name, logs, interval
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Worker:
        self.starts += 1
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "P95598_DB_URL": self.url,
            "P95598_SMS_URL": self.sms_url,
            "P95598_SMS_KEY": SMS_KEY,
            "PGAPPNAME": self.name,  # its PostgreSQL sessions show up under this name in pg_stat_activity
        }
        log = (self.logs / f"{self.name}-{self.starts}.log").open("wb")
        cmd = [sys.executable, "-m", "backend.workorders", "run", "--interval", str(self.interval)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill9(self, wait: bool = True) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            if wait:
                self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def errors(self) -> list[str]:
        lines = []
        for f in sorted(self.logs.glob(f"{self.name}-*.log")):
            lines += [x for x in f.read_text(errors="replace").splitlines() if "ERROR" in x or "Traceback" in x]
        return lines

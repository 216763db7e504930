"""The live traffic panel (实时话务) and the open incidents, for the KPI dashboard.

Live traffic: contacts started in the last 15 and 60 minutes by channel (contacts table), contacts in progress
now (outcome in_progress with an event in the last IN_PROGRESS_WINDOW: an abandoned browser tab is not "in
progress" for ever), and from the contact centre's own tables the customers waiting in the agent queue and the
agents online (backend.contact_centre.metrics, the numbers of the supervisor's live view).

Outages now (当前停电): the fault and planned outages in effect (backend.cis SqlCIS.active_outages, the definition
the bot tells customers by; a confirmed suspected outage is one of them) and the open suspected-outage incidents
still awaiting a supervisor's decision, one list; the forecast's excess counts the same list's areas.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics import kpis_incidents
from analytics.kpis import C, area_names, channel_name
from analytics.kpis_range import to_local
from backend import models as m
from backend.cis.interface import SUSPECTED, OutageInfo
from backend.contact_centre.kinds import AgentStatus
from backend.contact_centre.metrics import agents_by_status, queue_by_skill
from backend.models_analytics import ContactOutcome

WINDOWS = (15, 60)  # minutes
IN_PROGRESS_WINDOW = dt.timedelta(minutes=30)
KIND_NAMES = {"fault": "故障停电", "planned": "计划停电", SUSPECTED: "疑似停电"}
LONGEST_CONTACT = dt.timedelta(days=1)  # bounds the in-progress count to the started_at index (a session ends
# after an hour without a message, so no contact still going on started earlier)


def live_traffic(s: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or m.utcnow()
    since = now - dt.timedelta(minutes=max(WINDOWS))
    rows = s.execute(
        select(C.channel, C.started_at).where(C.started_at >= since, C.started_at <= now)
    ).all()  # at most an hour of contacts: counted here, both windows from one read
    windows = []
    for minutes in WINDOWS:
        start = now - dt.timedelta(minutes=minutes)
        counts: dict[str, int] = {}
        for channel, at in rows:
            if at >= start:
                counts[str(channel)] = counts.get(str(channel), 0) + 1
        windows.append(
            {
                "minutes": minutes,
                "contacts": sum(counts.values()),
                "by_channel": [
                    {"channel": ch, "name": channel_name(ch), "contacts": n}
                    for ch, n in sorted(counts.items(), key=lambda kv: -kv[1])
                ],
            }
        )
    in_progress = s.execute(
        select(func.count()).where(
            C.started_at >= now - LONGEST_CONTACT,
            C.outcome == ContactOutcome.IN_PROGRESS,
            func.coalesce(C.ended_at, C.started_at) >= now - IN_PROGRESS_WINDOW,
        )
    ).scalar_one()
    agents = agents_by_status(s, now)
    return {
        "now": to_local(now).strftime("%H:%M:%S"),
        "windows": windows,
        "in_progress": int(in_progress),
        "waiting": sum(int(q["waiting"]) for q in queue_by_skill(s, now)),
        "agents_online": sum(1 for a in agents if a["status"] != AgentStatus.OFFLINE),
        "agents_available": sum(1 for a in agents if a["status"] == AgentStatus.AVAILABLE),
    }


def open_incidents(s: Session, area: str | None = None) -> dict[str, Any]:
    """Suspected / confirmed outages still open, from the surge detector's table."""
    return {"incidents": kpis_incidents.read_open(s, area_names(s), area)}


def outages_now(known: list[OutageInfo], incidents: dict[str, Any]) -> dict[str, Any]:
    """当前停电: `known` from CIS.active_outages() (its fault and planned outages; its own suspected entries are
    left out, the open incidents below are listed whole), then the open incidents of `open_incidents`, each with
    area(s), kind, since when and the expected restoration (none for a suspected outage: not yet confirmed)."""
    items: list[dict[str, Any]] = [
        {
            "kind": o.kind,
            "kind_name": KIND_NAMES.get(o.kind, o.kind),
            "areas": [o.area_code],
            "area_names": [o.area_name],
            "since": to_local(o.start).strftime("%m-%d %H:%M"),
            "expected_end": to_local(o.expected_end).strftime("%m-%d %H:%M"),
            "reason": o.reason,
            "contacts": None,
        }
        for o in sorted(known, key=lambda o: o.start, reverse=True)
        if o.kind != SUSPECTED
    ]
    items += [
        {
            "kind": SUSPECTED,
            "kind_name": KIND_NAMES[SUSPECTED],
            "areas": i["areas"],
            "area_names": i["area_names"],
            "since": i["opened_at"],
            "expected_end": None,
            "reason": "待班长核实",
            "contacts": i["contacts"],
        }
        for i in incidents["incidents"]
    ]
    return {"items": items, "areas": sorted({a for i in items for a in i["areas"]})}

"""The inspection pages of the console (智能质检), server-rendered, for supervisors and quality staff; an agent gets the
polite 403 page. console/static/quality.js sends the reviewers' verdicts through console/quality_api.py.

- GET /console/quality                    the queue (filters in the query string, as the history page)
- GET /console/quality/contacts/{id}      one contact: the transcript with the evidence highlighted, each flag with
                                          its evidence, a player for the flagged call segment, confirm / dismiss
- GET /console/api/quality/contacts/{id}  the same as JSON
- GET /console/quality/sample             the random sample of unflagged contacts: 没有问题 / 漏检: <rule>
- GET /console/quality/scores             scores per week, agent, team and rule; precision and recall; courses
- GET /console/quality/scores/chart.svg   the weekly score per team (analytics/charts.py's Vega-Lite, as SVG)

The transcript is read from the Rasa conversation (the contact's time window only) with the system events in words
(转人工, 坐席接入, 身份已核验, …; tracker and back end); when it cannot be read the page says so and lists the evidence
lines alone. An evidence line is matched to its own turn by speaker and words, then by its time (Evidence.at,
seconds since Inspection.started_at) in the flag's order, so each of three identical replies is highlighted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from analytics import charts
from backend.case_view import transcript
from backend.contact_centre.kinds import CHANNEL_LABELS
from backend.model_base import epoch
from console import quality_api as api
from console.config import HUB
from console.pages import render
from quality import store

log = logging.getLogger(__name__)
WHO = {"customer": "客户", "bot": "机器人", "agent": "坐席", "system": "系统"}
EVENT_LABELS = {  # the inspection's system events (quality/contact.py EVENTS) and the console's own, in words
    "verified": "身份已核验",
    "transferred": "转人工",
    "agent_joined": "坐席接入",
    "hold_start": "保持开始",
    "hold_end": "保持结束",
    "urgent": "紧急处理",
    "order_created": "已建工单",
    "back_to_bot": "交回机器人",
}
RULE_EVENTS = {"transfer_unresolved": "transferred", "long_silence": "hold_start"}  # a rule's system evidence
SLACK = 60.0  # seconds: back-end rows are written a moment before or after the events that announce them
NEAR = 5.0  # seconds: a system evidence line without its event name is the system line this near in time
SEGMENT_BEFORE, SEGMENT_AFTER = 3.0, 30.0  # seconds of the recording played around a flag's offset
NO_TRANSCRIPT = "完整对话暂时读取不到，下面只列出证据所在的话。"


def segments(text: str, spans: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """The text cut into plain and highlighted pieces (spans merged and kept inside the text)."""
    cuts = sorted((max(0, int(a)), min(len(text), int(b))) for a, b in spans if int(b) > int(a))
    merged: list[list[int]] = []
    for a, b in cuts:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        elif a < b:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        if a > pos:
            out.append({"text": text[pos:a], "mark": False})
        out.append({"text": text[a:b], "mark": True})
        pos = b
    if pos < len(text) or not out:
        out.append({"text": text[pos:], "mark": False})
    return out


def _spans(e: dict[str, Any]) -> list[tuple[int, int]]:
    good = []
    for s in e.get("spans") or []:
        if isinstance(s, (list, tuple)) and len(s) == 2 and all(isinstance(x, int) for x in s):
            good.append((int(s[0]), int(s[1])))
    return good


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _clock(ts: float) -> str:
    return api.local_time(dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None))[11:]


def _system_event(e: dict[str, Any], rule_id: str, turns: list[dict[str, Any]]) -> str:
    """The event a system evidence item stands for: its own name, the rule's event, or the system line at its time."""
    named = e.get("event") or e.get("text") or RULE_EVENTS.get(rule_id)
    if named in EVENT_LABELS:
        return str(named)
    at = _seconds(e.get("at"))
    if at is None:
        return ""
    near = [(abs(t["offset"] - at), str(t["event"])) for t in turns if t["who"] == "system"]
    return min((n for n in near if n[0] <= NEAR), default=(0.0, ""))[1]


def _evidence_line(e: dict[str, Any], rule_id: str, turns: list[dict[str, Any]]) -> dict[str, Any]:
    who, text = str(e.get("who") or ""), str(e.get("text") or "")
    event = _system_event(e, rule_id, turns) if who == "system" else ""
    label = EVENT_LABELS.get(event, "系统事件") if who == "system" else text
    return {"who": who, "who_label": WHO.get(who, who), "text": label, "event": event, "turn": e.get("turn"),
            "at": e.get("at"), "pieces": segments(label, _spans(e) if who != "system" else [])}  # fmt: skip


def _window(events: list[dict[str, Any]], start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    first, last = epoch(start) - 2.0, epoch(end) + 5.0
    return [e for e in events if first <= float(e.get("timestamp") or 0) <= last]


def _tracker_marks(events: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """System events the tracker shows: the hand-over (the handoff message or the pause), back to the bot, the
    identity check (the verified_account slot set)."""
    marks: list[tuple[str, float]] = []
    paused = False
    for e in events:
        kind, ts = e.get("event"), float(e.get("timestamp") or 0)
        custom = ((e.get("data") or {}) if isinstance(e.get("data"), dict) else {}).get("custom")
        handoff = kind == "bot" and isinstance(custom, dict) and isinstance(custom.get("handoff"), dict)
        if (kind == "pause" and not paused) or handoff:
            marks.append(("transferred", ts))
        elif kind == "resume" and paused:
            marks.append(("back_to_bot", ts))
        elif kind == "slot" and e.get("name") == "verified_account" and e.get("value"):
            marks.append(("verified", ts))
        paused = True if kind == "pause" else False if kind in ("resume", "restart") else paused
    return marks


def _system_lines(marks: list[tuple[str, float]], first_agent: float | None) -> list[dict[str, Any]]:
    """One line per event (the first of each kind, order_created and back_to_bot every time); the agent joins when
    the case was claimed or, at the latest, just before the agent's first words."""
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    joined = [ts for name, ts in marks if name == "agent_joined"] + ([first_agent - 0.001] if first_agent else [])
    marks = [m for m in marks if m[0] != "agent_joined"] + ([("agent_joined", min(joined))] if joined else [])
    for name, ts in sorted(marks, key=lambda m: m[1]):
        if name in seen and name not in ("order_created", "back_to_bot"):
            continue
        seen.add(name)
        lines.append({"who": "system", "event": name, "text": EVENT_LABELS[name], "ts": ts})
    return lines


async def read_transcript(request: web.Request, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The contact's turns from the Rasa conversation with its system events (tracker and back end) as small
    lines in words; [] if the conversation cannot be read. Each line has `offset`, seconds since the contact's
    start, the clock of quality.inspect.Evidence.at."""
    try:
        tracker = await request.app[HUB].rasa.tracker(item["conversation_id"])
    except Exception:  # noqa: BLE001 - the page shows the evidence without the transcript rather than failing
        log.exception("transcript of %s not available", item["conversation_id"])
        return []
    events = tracker.get("events") if isinstance(tracker, dict) else None
    if not isinstance(events, list):
        return []
    events = _window([e for e in events if isinstance(e, dict)], item["started_at"], item["ended_at"])
    since = item["started_at"] - dt.timedelta(seconds=SLACK)
    until = item["ended_at"] + dt.timedelta(seconds=SLACK)
    backend = await api.in_db(request, lambda s: store.contact_events(s, item["conversation_id"], since, until))
    said = transcript(events, limit=10_000)
    for t in said:
        t["ts"] = dt.datetime.fromisoformat(t["at"]).timestamp() if t.get("at") else 0.0
    first_agent = next((t["ts"] for t in said if t["who"] == "agent"), None)
    marks = _tracker_marks(events) + [(name, epoch(at)) for name, at in backend]
    turns = said + _system_lines(marks, first_agent)
    # speech has whole seconds: within one second it comes first, except the agent joining before speaking
    turns.sort(key=lambda t: (int(t["ts"]), t.get("event") != "agent_joined", t["who"] == "system", t["ts"]))
    start = epoch(item["started_at"])
    for t in turns:
        t["who_label"] = WHO.get(t["who"], t["who"]) if t["who"] != "agent" else (t.get("agent") or "坐席")
        t["clock"], t["offset"] = _clock(t["ts"]), round(t["ts"] - start, 3)
        t["pieces"], t["flags"] = segments(t["text"], []), []
    return turns


def _same(t: dict[str, Any], line: dict[str, Any]) -> bool:
    if t["who"] != line["who"]:
        return False
    if t["who"] == "system":
        return bool(line["event"]) and t.get("event") == line["event"]
    return bool(t["text"].strip()) and t["text"].strip() == line["text"].strip()


def _match(turns: list[dict[str, Any]], line: dict[str, Any], after: int, used: set[int]) -> int | None:
    """The transcript turn of an evidence line: same speaker and words (or event), after the flag's previous
    evidence turn, nearest to the evidence's time; identical words without a time go in order of occurrence."""
    same = [k for k, t in enumerate(turns) if k not in used and _same(t, line)]
    candidates = [k for k in same if k > after] or same
    if not candidates:
        return None
    at = _seconds(line.get("at"))
    return candidates[0] if at is None else min(candidates, key=lambda k: (abs(turns[k]["offset"] - at), k))


def mark_evidence(turns: list[dict[str, Any]], flags: list[dict[str, Any]]) -> None:
    """Highlights each flag's evidence in its own transcript turn (every one of three identical replies)."""
    for f in flags:
        items = [e for e in f["evidence"] if isinstance(e, dict)]
        f["evidence_lines"] = [_evidence_line(e, f["rule_id"], turns) for e in items]
        after, used = -1, set[int]()
        for line, e in zip(f["evidence_lines"], items, strict=True):
            k = _match(turns, line, after, used)
            line["in_transcript"] = k is not None
            if k is None:
                continue
            after, target = k, turns[k]
            used.add(k)
            target.setdefault("spans", []).extend(_spans(e) if line["who"] != "system" else [])
            target["pieces"] = segments(target["text"], target["spans"])
            if f["id"] not in [x["id"] for x in target["flags"]]:
                target["flags"].append({"id": f["id"], "rule_name": f["rule_name"], "severity": f["severity"]})
        if f.get("recording_id") is not None and f.get("offset_seconds") is not None:
            start = max(0.0, float(f["offset_seconds"]) - SEGMENT_BEFORE)
            f["player"] = (
                f"/console/recordings/{int(f['recording_id'])}/audio#t={start:.1f},{start + SEGMENT_AFTER:.1f}"
            )


async def contact_data(request: web.Request, inspection_id: int) -> dict[str, Any]:
    item = await api.in_db(request, lambda s: store.inspection_detail(s, inspection_id))
    api.decorate(request.app, item)
    item["started_local"] = api.local_time(item["started_at"])
    turns = await read_transcript(request, item) if item["conversation_id"] else []
    mark_evidence(turns, item["flag_list"])
    item["transcript"], item["transcript_note"] = turns, "" if turns else NO_TRANSCRIPT
    rules = api.rule_catalogue(request.app)
    item["rules"] = [{"id": r, "name": v["description"]} for r, v in rules.items()]
    return item


async def contact_json(request: web.Request) -> web.Response:
    api.require_staff(request)
    return api.as_json(await contact_data(request, api.record_id(request)))


def _common(request: web.Request) -> dict[str, Any]:
    return {"agent": api.require_staff(request), "csrf": request["csrf"], "channel_labels": CHANNEL_LABELS}


async def queue_page(request: web.Request) -> web.Response:
    values = _common(request)
    data = await api.queue_data(request)
    agents = await api.in_db(request, store.queue_agents)
    q = {k: v for k, v in request.query.items() if k != "page" and v}
    more = data["offset"] + data["limit"] < data["total"]
    pages = {
        "prev": urlencode({**q, "page": data["page"] - 1}) if data["page"] > 1 else "",
        "next": urlencode({**q, "page": data["page"] + 1}) if more else "",
    }
    rules = api.rule_catalogue(request.app)
    return render("quality.html", **values, data=data, q=request.query, agents=agents, pages=pages,
                  rules=[(r, v["description"]) for r, v in rules.items()], reviews=api.REVIEW_LABELS)  # fmt: skip


async def contact_page(request: web.Request) -> web.Response:
    values = _common(request)
    item = await contact_data(request, api.record_id(request))
    return render("quality_contact.html", **values, item=item, verdicts=api.VERDICT_LABELS)


async def sample_page(request: web.Request) -> web.Response:
    values = _common(request)
    data = await api.sample_data(request)
    rules = api.rule_catalogue(request.app)
    return render("quality_sample.html", **values, data=data, q=request.query, reviews=api.REVIEW_LABELS,
                  rules=[(r, v["description"]) for r, v in rules.items()],
                  rule_names={r: v["description"] for r, v in rules.items()},
                  draw_default=store.DRAW_DEFAULT, draw_max=store.DRAW_MAX)  # fmt: skip


async def scores_page(request: web.Request) -> web.Response:
    values = _common(request)
    data = await api.scores_data(request)
    weeks = len(data["weeks"])
    return render("quality_scores.html", **values, data=data, weeks=weeks, week_choices=(4, 8, 12, 26))


def score_chart(data: dict[str, Any]) -> charts.Spec:
    values = [{"周": w["week"][5:], "平均得分": w["score"], "班组": t["team"]}
              for t in data["teams"] for w in t["weeks"] if w["score"] is not None]  # fmt: skip
    values += [{"周": w["week"][5:], "平均得分": w["score"], "班组": "全部"}
               for w in data["overall"]["weeks"] if w["score"] is not None]  # fmt: skip
    if not values:
        return charts.note("每周平均质检得分")
    return {
        "$schema": charts.SCHEMA, "title": "每周平均质检得分", "width": charts.WIDTH, "height": charts.HEIGHT,
        "data": {"values": values}, "config": charts.CONFIG, "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "周", "type": "ordinal", "sort": None, "title": "周（周一）"},
            "y": {"field": "平均得分", "type": "quantitative", "scale": {"domain": [0, 100]}, "title": "平均得分"},
            "color": {"field": "班组", "type": "nominal", "title": None},
        },
    }  # fmt: skip


async def chart_svg(request: web.Request) -> web.Response:
    api.require_staff(request)
    data = await api.scores_data(request)
    try:
        svg = await asyncio.to_thread(charts.to_svg, score_chart(data))
    except Exception:  # noqa: BLE001 - the converter missing or failing must not break the page
        log.exception("quality chart not drawn")
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="560" height="40"><text x="8" y="24" font-size="13" '
               'fill="#888">图表暂时无法显示，请查看下方表格。</text></svg>')  # fmt: skip
    return web.Response(text=svg, content_type="image/svg+xml", headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/quality", queue_page)
    r.add_get("/console/quality/contacts/{id}", contact_page)
    r.add_get("/console/api/quality/contacts/{id}", contact_json)
    r.add_get("/console/quality/sample", sample_page)
    r.add_get("/console/quality/scores", scores_page)
    r.add_get("/console/quality/scores/chart.svg", chart_svg)

"""The inspection pages of the console (智能质检), server-rendered, for supervisors and quality staff; an agent gets the
polite 403 page. console/static/quality.js sends the reviewers' verdicts through console/quality_api.py.

- GET /console/quality                    the queue (filters in the query string, as the history page)
- GET /console/quality/contacts/{id}      one contact: the transcript with the evidence highlighted, each flag with
                                          its evidence, a player for the flagged call segment, confirm / dismiss
- GET /console/api/quality/contacts/{id}  the same as JSON
- GET /console/quality/sample             the random sample of unflagged contacts: 没有问题 / 漏检: <rule>
- GET /console/quality/scores             scores per week, agent, team and rule; precision and recall; courses
- GET /console/quality/scores/chart.svg   the weekly score per team (analytics/charts.py's Vega-Lite, as SVG)

The transcript is read from the Rasa conversation (the contact's time window only); when it cannot be read the page
says so and lists the evidence lines alone. An evidence line is matched to its turn by speaker and words.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from analytics import charts
from backend.case_view import event_time, transcript
from backend.contact_centre.kinds import CHANNEL_LABELS
from console import quality_api as api
from console.config import HUB
from console.pages import render
from quality import store

log = logging.getLogger(__name__)
WHO = {"customer": "客户", "bot": "机器人", "agent": "坐席", "system": "系统"}
EVENT_LABELS = {
    "verified": "身份已核验",
    "transferred": "转人工排队",
    "agent_joined": "坐席接入",
    "hold_start": "保持开始",
    "hold_end": "保持结束",
    "urgent": "紧急处置",
    "order_created": "已建工单",
}
TRACKER_MARKS = {"pause": "转人工坐席", "resume": "交回机器人"}
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


def _evidence_line(e: dict[str, Any]) -> dict[str, Any]:
    who, text = str(e.get("who") or ""), str(e.get("text") or "")
    label = EVENT_LABELS.get(text, text) if who == "system" else text
    return {"who": who, "who_label": WHO.get(who, who), "text": label, "turn": e.get("turn"), "at": e.get("at"),
            "pieces": segments(label, _spans(e) if who != "system" else [])}  # fmt: skip


def _window(events: list[dict[str, Any]], start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    first = start.replace(tzinfo=dt.timezone.utc).timestamp() - 2.0
    last = end.replace(tzinfo=dt.timezone.utc).timestamp() + 5.0
    return [e for e in events if first <= float(e.get("timestamp") or 0) <= last]


def _clock(iso: str) -> str:
    try:
        return api.local_time(dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).replace(tzinfo=None))[11:]
    except ValueError:
        return ""


async def read_transcript(request: web.Request, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The contact's turns from the Rasa conversation, with pause/resume as small system lines; [] if unavailable."""
    try:
        tracker = await request.app[HUB].rasa.tracker(item["conversation_id"])
    except Exception:  # noqa: BLE001 - the page shows the evidence without the transcript rather than failing
        log.exception("transcript of %s not available", item["conversation_id"])
        return []
    events = tracker.get("events") if isinstance(tracker, dict) else None
    if not isinstance(events, list):
        return []
    events = _window([e for e in events if isinstance(e, dict)], item["started_at"], item["ended_at"])
    marks = [{"who": "system", "text": TRACKER_MARKS[str(e["event"])], "at": event_time(e.get("timestamp"))}
             for e in events if e.get("event") in TRACKER_MARKS]  # fmt: skip
    turns = sorted(transcript(events, limit=10_000) + marks, key=lambda t: str(t.get("at") or ""))
    for t in turns:
        t["who_label"] = WHO.get(t["who"], t["who"]) if t["who"] != "agent" else (t.get("agent") or "坐席")
        t["clock"] = _clock(t.get("at") or "")
        t["pieces"], t["flags"] = segments(t["text"], []), []
    return turns


def mark_evidence(turns: list[dict[str, Any]], flags: list[dict[str, Any]]) -> None:
    """Highlights each flag's evidence in the transcript turn with the same speaker and words."""
    for f in flags:
        f["evidence_lines"] = [_evidence_line(e) for e in f["evidence"] if isinstance(e, dict)]
        for line, e in zip(f["evidence_lines"], [e for e in f["evidence"] if isinstance(e, dict)], strict=True):
            target = next((t for t in turns if t["who"] == line["who"] and t["text"].strip() == line["text"].strip()
                           and t["who"] != "system"), None)  # fmt: skip
            line["in_transcript"] = target is not None
            if target is not None:
                target.setdefault("spans", []).extend(_spans(e))
                target["pieces"] = segments(target["text"], target["spans"])
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
                  rule_names={r: v["description"] for r, v in rules.items()})  # fmt: skip


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

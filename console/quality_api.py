"""The inspection queue's JSON API (智能质检), for supervisors and quality staff (质检员) only; agents get a polite 403.

- GET  /console/api/quality/queue?rule&channel&agent&from&to&review&page   flagged contacts, ranked by top severity,
                                                 then flags, then recency (agent: an agent id, or `bot`)
- GET  /console/api/quality/contacts/{id}        one inspection: flags with evidence, recordings, the transcript
                                                 (console/quality_pages.py, beside the contact page)
- POST /console/api/quality/flags/{id}/review    {"verdict": "confirmed" | "dismissed", "note": "…"?}
- GET  /console/api/quality/sample?review&page   the random sample of unflagged contacts
- POST /console/api/quality/sample/{id}          {"missed_rule": null | "<rule id>", "note": "…"?}
- POST /console/api/quality/sample/draw          {"count": 1..100?}: draws up to count (10) random unflagged contacts
                                                 not yet sampled into the sample (quality staff can always get one)
- GET  /console/api/quality/scores?weeks         scores per week, agent, team and rule; precision and recall in use;
                                                 each agent's weak rules with their courses

The pages are console/quality_pages.py. Bad input is a 400 with a Chinese sentence, an unknown id a 404.
Rules are shown by their Chinese description, never their id: the rule file is read once when the console starts;
when it cannot be read that is logged and the descriptions below (those of quality/rules.yml) are shown instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy.orm import Session, sessionmaker

from backend.contact_centre import AgentInfo
from backend.contact_centre.kinds import CHANNEL_LABELS, AgentRole
from backend.model_base import utcnow
from backend.models_quality import Review
from console.auth import agent_of
from console.config import CONTACT
from console.errors import refuse
from quality import courses, store, store_scores
from quality.contact import CHANNELS
from quality.rules import RuleFileError, load_rules

log = logging.getLogger(__name__)
T = TypeVar("T")
TZ = ZoneInfo("Asia/Shanghai")
STAFF = (AgentRole.SUPERVISOR, AgentRole.QUALITY)
NOT_STAFF = "质检页面只对班长和质检员开放，如需查看请联系班长。"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
PAGE_SIZE, MAX_PAGE, MAX_NOTE, MAX_WEEKS = 30, 10_000, 200, 26
REVIEW_LABELS = {"": "全部", "pending": "待复核", "reviewed": "已复核"}
VERDICT_LABELS = {Review.PENDING: "待复核", Review.CONFIRMED: "确认有问题", Review.DISMISSED: "误报"}
SEVERITY_LABELS = {1: "轻微", 2: "一般", 3: "严重"}
EMOTION_LABELS = {"calm": "平静", "anxious": "着急", "dissatisfied": "不满", "angry": "生气", "satisfied": "满意"}
RULES = web.AppKey("quality_rules", dict)  # rule id -> {"description", "severity"}, from quality/rules.yml
COURSES = web.AppKey("quality_courses", list)
KNOWN_RULES = {  # shown when the rule file cannot be read at start, and for flags of rules since removed from it
    "greeting": ("服务方第一句话没有问候语", 1),
    "closing": ("服务结束时没有结束语", 1),
    "identity_before_disclosure": ("未核实身份就透露了账户信息", 3),
    "impolite_words": ("坐席使用了服务禁语或不礼貌用语", 3),
    "callback_kept": ("承诺回电或回复，但没有按时做到", 2),
    "customer_repeats": ("客户把同一件事说了三遍以上", 2),
    "bot_repeats": ("机器人重复了同样的回答三遍以上", 2),
    "long_silence": ("通话中长时间无人说话，或保持（hold）过久", 1),
    "transfer_unresolved": ("转人工后问题没有解决", 2),
    "complaint_no_apology": ("客户投诉或抱怨服务，服务方没有致歉", 2),
    "safety_not_urgent": ("客户报告安全隐患，没有按紧急处理", 3),
    "agent_slow_reply": ("文字渠道坐席超过 60 秒才回复客户", 1),
    "emotion_escalation": ("客户情绪在会话中明显升级", 2),
}
EMOTION_WORDS = re.compile(r"(?<![A-Za-z])(" + "|".join(EMOTION_LABELS) + r")(?![A-Za-z])")
UNKNOWN_RULE = "其他质检规则"


class BadInput(ValueError):
    """Input the API refuses; the message is the Chinese sentence of the 400."""


def require_staff(request: web.Request) -> AgentInfo:
    agent = agent_of(request)
    if agent.role not in STAFF:
        raise web.HTTPForbidden(text=NOT_STAFF)
    return agent


def load_rule_catalogue(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Rule id -> description and severity: quality/rules.yml's (quality.rules.load_rules) over KNOWN_RULES."""
    known = {r: {"description": d, "severity": n} for r, (d, n) in KNOWN_RULES.items()}
    try:
        rules = load_rules(path).rules
    except RuleFileError as e:
        log.error("质检规则文件无法读取，页面使用内置的规则说明：%s", e)
        return known
    except Exception:  # noqa: BLE001 - any other failure of the rule file must not take the console down
        log.exception("质检规则文件无法读取，页面使用内置的规则说明")
        return known
    known.update({r.id: {"description": r.description, "severity": r.severity} for r in rules})
    return known


def rule_catalogue(app: web.Application) -> dict[str, dict[str, Any]]:
    """The rule catalogue read when the console started (never re-read: the file may change under a running one)."""
    return app[RULES]


def rule_name(app: web.Application, rule_id: str) -> str:
    return str(rule_catalogue(app).get(rule_id, {}).get("description") or UNKNOWN_RULE)


def rule_severities(app: web.Application) -> dict[str, int]:
    return {r: int(v["severity"]) for r, v in rule_catalogue(app).items()}


def readable_message(message: str | None) -> str:
    """A finding's message with the emotion model's labels in Chinese (calm → dissatisfied: 平静 → 不满)."""
    return EMOTION_WORDS.sub(lambda m: EMOTION_LABELS[m.group(1)], message or "")


def course_catalogue(app: web.Application) -> list[courses.Course]:
    return app[COURSES]


def local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def as_json(data: Any, status: int = 200) -> web.Response:
    dumps = partial(json.dumps, default=_iso, ensure_ascii=False)
    return web.json_response(data, status=status, dumps=dumps, headers={"Cache-Control": "no-store"})


def _day(value: str, what: str) -> dt.datetime | None:
    """Local midnight of a YYYY-MM-DD date as naive UTC."""
    if not value:
        return None
    try:
        if not DATE.match(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{what}应为“年-月-日”，例如 2026-12-01。") from None
    return dt.datetime.combine(day, dt.time(), TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)


def page_number(q: MultiMapping[str]) -> int:
    page = q.get("page", "1") or "1"
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise BadInput(f"页码应为1到{MAX_PAGE}之间的整数。")
    return int(page)


def queue_filters(app: web.Application, q: MultiMapping[str]) -> store.QueueFilters:
    rule, channel, agent = q.get("rule", ""), q.get("channel", ""), q.get("agent", "")
    review = q.get("review", "")
    known = rule_catalogue(app)
    if rule and rule not in known:
        raise BadInput("请从列表中选择质检规则。")
    if channel and channel not in CHANNELS:
        raise BadInput("渠道只能是网页聊天、微信或电话。")
    if agent and not AGENT_ID.match(agent):
        raise BadInput("请从列表中选择坐席。")
    if review not in REVIEW_LABELS:
        raise BadInput("复核状态只能是全部、待复核或已复核。")
    since, until = _day(q.get("from", ""), "开始日期"), _day(q.get("to", ""), "结束日期")
    if until is not None:
        until += dt.timedelta(days=1)  # the end date is included
    if since is not None and until is not None and since >= until:
        raise BadInput("开始日期不能晚于结束日期。")
    return store.QueueFilters(rule, channel, agent, since, until, review)


def record_id(request: web.Request, key: str = "id") -> int:
    raw = request.match_info[key]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound(text="没有找到这条质检记录，编号应为数字。")
    return int(raw)


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadInput("提交的内容不是有效的 JSON。") from None
    if not isinstance(body, dict):
        raise BadInput('提交的内容应为一个对象，例如 {"verdict": "confirmed"}。')
    return body


def note_of(body: dict[str, Any]) -> str | None:
    note = body.get("note")
    if note is None:
        return None
    if not isinstance(note, str):
        raise BadInput("备注应为文字。")
    if len(note.strip()) > MAX_NOTE:
        raise BadInput(f"备注最多{MAX_NOTE}个字。")
    return note.strip() or None


async def in_db(request: web.Request, work: Callable[[Session], T], write: bool = False) -> T:
    """`work(session)` in a worker thread; a write commits. store.NotFound is a 404, BadInput a 400."""
    sessions: sessionmaker[Session] = request.app[CONTACT].sessions

    def run() -> T:
        with sessions.begin() if write else sessions() as s:
            return work(s)

    try:
        return await asyncio.to_thread(run)
    except store.NotFound as e:
        raise web.HTTPNotFound(text=str(e)) from None
    except BadInput as e:
        raise refuse(400, str(e)) from None


def decorate_flags(app: web.Application, flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for f in flags:
        f["rule_name"] = rule_name(app, f["rule_id"])
        f["message"] = readable_message(f.get("message"))
        f["severity_label"] = SEVERITY_LABELS.get(f["severity"], str(f["severity"]))
        f["review_label"] = VERDICT_LABELS.get(f["review"], f["review"])
    return flags


def decorate(app: web.Application, item: dict[str, Any]) -> dict[str, Any]:
    item["channel_label"] = CHANNEL_LABELS.get(item["channel"], item["channel"])
    item["handled_label"] = (
        "机器人" if item["handled_by"] == "bot" else (item["agent_name"] or item["agent_id"] or "坐席")
    )
    item["ended_local"] = local_time(item["ended_at"])
    item["emotion_labels"] = [EMOTION_LABELS.get(e, e) for e in item["emotions"]]
    decorate_flags(app, item.get("flag_list", []))
    return item


async def queue_data(request: web.Request) -> dict[str, Any]:
    try:
        filters, page = queue_filters(request.app, request.query), page_number(request.query)
    except BadInput as e:
        raise refuse(400, str(e)) from None
    data = await in_db(request, lambda s: store.flagged_queue(s, filters, (page - 1) * PAGE_SIZE, PAGE_SIZE))
    data["page"] = page
    data["items"] = [decorate(request.app, i) for i in data["items"]]
    return data


async def queue(request: web.Request) -> web.Response:
    require_staff(request)
    return as_json(await queue_data(request))


async def review_flag(request: web.Request) -> web.Response:
    agent, flag_id = require_staff(request), record_id(request)
    try:
        body = await json_body(request)
        verdict, note = body.get("verdict"), note_of(body)
        if verdict not in (Review.CONFIRMED, Review.DISMISSED):
            raise BadInput("请选择“确认有问题”（confirmed）或“误报”（dismissed）。")
    except BadInput as e:
        raise refuse(400, str(e)) from None
    flag = await in_db(request, lambda s: store.review_flag(s, flag_id, str(verdict), agent.username, note), True)
    return as_json({"flag": decorate_flags(request.app, [flag])[0]})


async def sample_data(request: web.Request) -> dict[str, Any]:
    review = request.query.get("review", "")
    try:
        if review not in REVIEW_LABELS:
            raise BadInput("复核状态只能是全部、待复核或已复核。")
        page = page_number(request.query)
    except BadInput as e:
        raise refuse(400, str(e)) from None
    data = await in_db(request, lambda s: store.sample_page(s, review, (page - 1) * PAGE_SIZE, PAGE_SIZE))
    data["page"] = page
    data["items"] = [decorate(request.app, i) for i in data["items"]]
    return data


async def sample(request: web.Request) -> web.Response:
    require_staff(request)
    return as_json(await sample_data(request))


async def review_sample(request: web.Request) -> web.Response:
    agent, inspection_id = require_staff(request), record_id(request)
    try:
        body = await json_body(request)
        missed, note = body.get("missed_rule"), note_of(body)
        if missed is not None and (not isinstance(missed, str) or missed not in rule_catalogue(request.app)):
            raise BadInput("漏检的规则请从列表中选择；没有问题请选“没有问题”。")
    except BadInput as e:
        raise refuse(400, str(e)) from None
    await in_db(request, lambda s: store.review_sample(s, inspection_id, agent.username, missed, note), True)
    return as_json({"inspection_id": inspection_id, "missed_rule": missed, "note": note})


async def draw_sample(request: web.Request) -> web.Response:
    require_staff(request)
    try:
        body = await json_body(request) if request.can_read_body else {}
        count = body.get("count", store.DRAW_DEFAULT)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= store.DRAW_MAX:
            raise BadInput(f"抽取数量应为1到{store.DRAW_MAX}之间的整数。")
    except BadInput as e:
        raise refuse(400, str(e)) from None
    drawn = await in_db(request, lambda s: store.draw_sample(s, count), True)
    message = f"已抽取 {len(drawn)} 个会话，请逐个复核。" if drawn else "暂时没有可抽取的会话：没有问题的会话都已抽过。"
    return as_json({"drawn": drawn, "message": message})


def weeks_of(q: MultiMapping[str]) -> int:
    weeks = q.get("weeks", "8") or "8"
    if not weeks.isdigit() or not 1 <= int(weeks) <= MAX_WEEKS:
        raise BadInput(f"周数应为1到{MAX_WEEKS}之间的整数。")
    return int(weeks)


async def scores_data(request: web.Request) -> dict[str, Any]:
    try:
        weeks = weeks_of(request.query)
    except BadInput as e:
        raise refuse(400, str(e)) from None
    catalogue, severity = course_catalogue(request.app), rule_severities(request.app)

    def course_json(c: courses.Course, weak: list[str]) -> dict[str, Any]:
        trains = [rule_name(request.app, r) for r in weak if r in c.rules]
        return {**c.__dict__, "for_rules": trains}

    def read(s: Session) -> dict[str, Any]:
        data = store_scores.scores(s, utcnow(), weeks)
        shares = store_scores.rule_shares(s, data["since"])
        for a in data["agents"]:
            weak = courses.weak_rules(a["agent_id"], shares, severity)
            a["weak_rules"] = [
                {**w.__dict__, "rule_name": rule_name(request.app, w.rule_id),
                 "severity_label": SEVERITY_LABELS.get(w.severity, "")}
                for w in weak
            ]  # fmt: skip
            ids = [w.rule_id for w in weak]
            a["courses"] = [course_json(c, ids) for c in courses.courses_for(ids, catalogue)]
        return data

    data = await in_db(request, read)
    for r in data["rules"]:
        r["rule_name"] = rule_name(request.app, r["rule_id"])
    for c in data["lowest"]:
        c["ended_local"] = local_time(c["ended_at"])
    return data


async def scores(request: web.Request) -> web.Response:
    require_staff(request)
    return as_json(await scores_data(request))


def add_routes(app: web.Application) -> None:
    app[RULES] = load_rule_catalogue()
    app[COURSES] = courses.load_courses()  # a broken catalogue stops the console at start (CourseFileError)
    r = app.router
    r.add_get("/console/api/quality/queue", queue)
    r.add_post("/console/api/quality/flags/{id}/review", review_flag)
    r.add_get("/console/api/quality/sample", sample)
    r.add_post("/console/api/quality/sample/draw", draw_sample)
    r.add_post("/console/api/quality/sample/{id}", review_sample)
    r.add_get("/console/api/quality/scores", scores)

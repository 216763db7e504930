"""Work orders in the console: an order's timeline for the agent serving its customer, and the supervisor's
board (overdue orders and warnings, per-team figures, the follow-up review queue) with manual re-dispatch.

Times go out on the Asia/Shanghai clock; the steps themselves are backend.workorders.WorkOrders'."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from backend import models as m
from backend.cis import CIS
from backend.contact_centre import ContactStore
from backend.contact_centre.kinds import CHANNEL_LABELS
from backend.workorders import Actor, Conflict, IllegalTransition, OrderNotFound, OrderView, WorkOrders, roster
from backend.workorders.commitments import to_local
from backend.workorders.states import label
from backend.workorders.wording import STEP_WORDS
from console.auth import agent_of, require_supervisor
from console.config import CATALOG, CONTACT, ORDERS
from console.config import CIS as CIS_KEY

NUMBER = re.compile(r"^[A-Za-z0-9]{1,24}$")
MAX_NOTE = 200
STAGES = {0: "", 1: "预警", 2: "超时，已告知班长", 3: "超时，已报主管"}
KINDS = {"status": "状态", "dispatch": "派单", "note": "备注", "supervision": "督办", "survey": "回访"}
ACTORS = {"bot": "智能客服", "customer": "客户", "system": "系统", "payment": "缴费系统"}
SOURCES = {
    **CHANNEL_LABELS,
    "console": "坐席工作台",
    "field_app": "现场App",
    "system": "系统",
    "payment": "缴费",
    "sms": "短信",
}


def local(t: dt.datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    return to_local(t).strftime(fmt) if t else ""


def span(minutes: int) -> str:
    """3天2小时 / 1小时5分 / 12分."""
    days, rest = divmod(abs(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    return f"{hours}小时{mins}分" if hours else f"{mins}分"


def field_id(actor: str) -> int | None:
    kind, _, rest = actor.partition(":")
    return int(rest) if kind == "field" and rest.isdigit() else None


def who(actor: str, field_names: dict[int, str]) -> str:
    if actor.startswith("agent:"):
        return f"坐席 {actor[6:]}"
    member = field_id(actor)
    if member is not None:
        return field_names.get(member) or f"现场人员 {member}"
    return ACTORS.get(actor, actor)


def order_json(o: OrderView, field_names: dict[int, str], service: str) -> dict[str, Any]:
    return {
        "number": o.number,
        "function_id": o.function_id,
        "service": service,
        "status": o.status,
        "status_label": o.status_label,
        "priority": o.priority,
        "created_at": local(o.created_at, "%Y-%m-%d %H:%M"),
        "team": o.team,
        "team_id": o.team_id,
        "assignee": o.assignee,
        "assignee_id": o.assignee_id,
        "due_at": local(o.due_at, "%Y-%m-%d %H:%M"),
        "due_step": STEP_WORDS.get(o.due_step or "", ""),
        "stage": o.supervision_stage,
        "stage_label": STAGES.get(o.supervision_stage, ""),
        "timeline": [
            {
                "at": local(e.at, "%Y-%m-%d %H:%M"),
                "kind": e.kind,
                "kind_label": KINDS.get(e.kind, e.kind),
                "actor": e.actor,
                "who": who(e.actor, field_names),
                "source": e.source,
                "source_label": SOURCES.get(e.source, e.source),
                "status": e.status,
                "status_label": e.status_label,
                "from_status": e.from_status,
                "from_label": label(e.from_status) if e.from_status else "",
                "note": e.note,
            }
            for e in o.timeline
        ],
    }


def with_names(orders: WorkOrders, o: OrderView) -> dict[int, str]:
    ids = {i for i in (field_id(e.actor) for e in o.timeline) if i is not None}
    return roster.member_names(orders.sessions, ids)


def board(orders: WorkOrders, service: Callable[[str], str], now: dt.datetime | None = None) -> dict[str, Any]:
    """What the supervisor watches: overdue and warned orders, figures by team, unsatisfied follow-ups."""
    now = now or m.utcnow()
    overdue = []
    for o in orders.overdue(now):
        late = int((now - o.due_at).total_seconds() // 60) if o.due_at else 0
        overdue.append(
            {
                "number": o.number,
                "service": service(o.function_id),
                "status_label": o.status_label,
                "priority": o.priority,
                "team": o.team or "未定网格",
                "team_id": o.team_id,
                "assignee": o.assignee or "未指派",
                "due_at": local(o.due_at),
                "step": STEP_WORDS.get(o.due_step or "", "办结"),
                "late_minutes": late,
                "late": f"超时{span(late)}" if late >= 0 else f"还剩{span(late)}",
                "stage": o.supervision_stage,
                "stage_label": STAGES.get(o.supervision_stage, ""),
            }
        )
    teams = roster.team_names(orders.sessions)
    review = [
        {
            "number": r["number"],
            "service": service(r["function_id"]),
            "score": r["score"],
            "answered_at": local(r["answered_at"]),
            "team": teams.get(r["team_id"], "") if r["team_id"] else "",
        }
        for r in orders.review_queue()
    ]
    return {"overdue": overdue, "figures": orders.team_figures(), "review": review, "updated": local(now, "%H:%M:%S")}


def _number(request: web.Request) -> str:
    number = request.match_info["number"]
    if not NUMBER.match(number):
        raise web.HTTPNotFound(text="没有这张工单。")
    return number.upper()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="请求格式不对（需要 JSON）。") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="请求格式不对（需要 JSON 对象）。")
    return body


def serves_customer(contact: ContactStore, cis: CIS, agent_id: int, number: str) -> bool | None:
    """Whether the agent owns a case of the order's customer (same conversation or account); None: no order."""
    order = cis.get_work_order(number)
    if order is None:
        return None
    for case in contact.cases_of(agent_id):
        if order.conversation_id and order.conversation_id == case.conversation_id:
            return True
        account = case.account_no
        if account is None and case.phone:
            customer = cis.find_customer_by_phone(case.phone)
            account = customer.account_no if customer else None
        if account and order.account_no == account:
            return True
    return False


async def get_order(request: web.Request) -> web.Response:
    """One order with its timeline: for the agent serving its customer, and for supervisors."""
    number, agent, app = _number(request), agent_of(request), request.app
    if not agent.supervisor:
        ours = await asyncio.to_thread(serves_customer, app[CONTACT], app[CIS_KEY], agent.id, number)
        if ours is None:
            raise web.HTTPNotFound(text="没有这张工单。")
        if not ours:
            raise web.HTTPForbidden(text="只能查看您正在接待的客户的工单。")
    orders = app[ORDERS]
    order = await asyncio.to_thread(orders.get, number)
    if order is None:
        raise web.HTTPNotFound(text="没有这张工单。")
    names = await asyncio.to_thread(with_names, orders, order)
    return web.json_response(order_json(order, names, app[CATALOG].name(order.function_id)))


async def supervision(request: web.Request) -> web.Response:
    require_supervisor(request)
    return web.json_response(await asyncio.to_thread(board, request.app[ORDERS], request.app[CATALOG].name))


async def team_members(request: web.Request) -> web.Response:
    """A team's active members to re-dispatch to: role, on duty now, current load."""
    require_supervisor(request)
    text = request.match_info["team_id"]
    team_id = int(text) if text.isdigit() and len(text) < 10 else 0
    found = await asyncio.to_thread(roster.team_roster, request.app[ORDERS].sessions, team_id) if team_id else None
    if found is None:
        raise web.HTTPNotFound(text="没有这个班组。")
    name, members = found
    return web.json_response({"team_id": team_id, "team": name, "members": [dataclasses.asdict(p) for p in members]})


async def redispatch(request: web.Request) -> web.Response:
    """Manual re-dispatch to a member of the order's own team (another team only when named in "team_id")."""
    supervisor = require_supervisor(request)
    number, body = _number(request), await _body(request)
    member_id, note = _int(body.get("member_id")), body.get("note", "")
    if member_id is None:
        raise web.HTTPBadRequest(text="请选择要改派的人员（member_id）。")
    if not isinstance(note, str):
        raise web.HTTPBadRequest(text="备注应为文字。")
    named_team = body.get("team_id")
    if named_team is not None and _int(named_team) is None:
        raise web.HTTPBadRequest(text="班组编号不对（team_id）。")
    orders = request.app[ORDERS]
    order = await asyncio.to_thread(orders.get, number)
    if order is None:
        raise web.HTTPNotFound(text="没有这张工单。")
    member = await asyncio.to_thread(roster.active_member, orders.sessions, member_id)
    if member is None:
        raise web.HTTPBadRequest(text="没有这位在岗人员。")
    if named_team is not None:
        if member.team_id != named_team:
            raise web.HTTPBadRequest(text="这位人员不属于所选班组。")
    else:
        home = order.team_id or await asyncio.to_thread(roster.area_team, orders.sessions, order.area_code)
        if member.team_id != home:
            raise web.HTTPBadRequest(text="只能改派给本网格班组的人员；跨班组改派请注明班组（team_id）。")
    actor = Actor(f"agent:{supervisor.username}", "console", supervisor.display_name)
    try:
        order = await asyncio.to_thread(orders.redispatch, number, member_id, actor, note.strip()[:MAX_NOTE])
    except OrderNotFound:
        raise web.HTTPNotFound(text="没有这张工单。") from None
    except IllegalTransition as e:
        raise web.HTTPConflict(text=f"工单当前为“{label(e.current)}”，不能改派。") from None
    except Conflict:
        raise web.HTTPConflict(text="工单刚被他人更新，请刷新后再试。") from None
    except LookupError:
        raise web.HTTPBadRequest(text="没有这位在岗人员。") from None
    names = await asyncio.to_thread(with_names, orders, order)
    return web.json_response(order_json(order, names, request.app[CATALOG].name(order.function_id)))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/api/orders/{number}", get_order)
    r.add_post("/console/api/orders/{number}/dispatch", redispatch)
    r.add_get("/console/api/teams/{team_id}/members", team_members)
    r.add_get("/console/api/supervision", supervision)

"""Where a customer's order stands, in the words they are told: the status, who has it (masked name and team)
and what to expect next on the Shanghai clock (spoken on a call). Used by the progress query and by a progress
question asked right after filing ("现在复电到哪一步了")."""

from __future__ import annotations

import datetime as dt
import re

from rasa_sdk import Tracker

from actions import wording
from backend.cis import OrderInfo
from backend.workorders.states import OrderStatus as S
from backend.workorders.wording import GOALS, expectation, masked_name

ASKS_PROGRESS = re.compile(
    r"到哪一?步|到哪了|进度|怎么样了|处理得?怎么样|办得?怎么样|有人(来|管|处理|来处理|来修|来看)?了?(没|吗)|出发了?(没|吗)|"
    r"(什么|啥)时候.{0,4}(来|到|修|好|处理|恢复|来电|复电)|(还要|还得|要)等?多久|多久(能|才|可以)"
)


def asks_progress(text: str) -> bool:
    return bool(ASKS_PROGRESS.search(text or ""))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def state(tracker: Tracker, o: OrderInfo, now: dt.datetime) -> str:
    """Where the order stands, who has it (masked) and what to expect next, as the customer is told."""
    status = o.status
    if status == S.CLOSED:
        return "已经处理完毕并办结"
    if status == S.RESOLVED:
        note = last_note(o, S.RESOLVED)
        return "已经处理完毕" + (f"（{note}）" if note else "")
    if status == S.WITHDRAWN:
        return "已经撤销"
    if status == S.AWAITING_PAYMENT:
        told = wording.pick(tracker, "发消息", "发短信")
        return f"正在等您缴费。缴清后系统会自动安排复电，并{told}告诉您，不用再联系我们"
    if status == S.CANNOT_COMPLETE:
        note = last_note(o, S.CANNOT_COMPLETE)
        return "暂时无法完成" + (f"，原因是{note}" if note else "") + "。我们正在重新安排，会尽快和您联系"
    who = masked_name(o.assignee) if o.assignee else ""
    team = o.team or "供电网格"
    if not who or status in (S.RECEIVED, S.REOPENED):
        head = "已重新安排处理" if status == S.REOPENED else "已受理"
        return f"{head}，正在安排工作人员{expected(tracker, o, now)}"
    doing = {
        S.DISPATCHED: f"已派给{team}，由{who}负责",
        S.ACCEPTED: f"{team}的{who}已经接单",
        S.EN_ROUTE: f"{team}的{who}已经出发，正在赶来",
        S.ON_SITE: f"{team}的{who}已经到现场处理了",
    }.get(S(status), f"目前{o.status_label}，由{team}的{who}负责")
    return doing + expected(tracker, o, now)


STAFF_PHONE_WITHHELD = "工作人员的个人电话不便提供，需要时他们会打您留的电话联系您。"
CHASED = "已为您催办工单{number}，会提醒处理人员尽快办理。"


def expected(tracker: Tracker, o: OrderInfo, now: dt.datetime) -> str:
    """ "，预计10:40前到达现场": the time the customer was promised (the same as in the dispatch message; spoken
    on a call); past it, that it is being chased."""
    due, step = (o.promised_at, o.promised_step) if o.promised_at else (o.due_at, o.due_step)
    if due is None or step is None:
        return ""
    if due <= now:
        return "。已经超过承诺的时间，我们正在催办，请您再稍等一下"
    if wording.is_voice(tracker):
        return f"，预计{wording.spoken_time(due)}前{GOALS.get(step, '处理')}"
    return "，" + expectation(step, due, now)


def last_note(o: OrderInfo, status: str) -> str:
    """What the field staff wrote when the order reached `status` (short), if anything."""
    notes = [note for st, note, _ in o.history if st == status and note]
    return notes[-1][:40] if notes else ""

"""What customers and staff are told about an order: one home for each sentence, chat/SMS wording."""

from __future__ import annotations

import datetime as dt

from backend.survey_scale import SCALE as SCALE  # re-exported: the survey scale is read here and in the Rasa process
from backend.survey_scale import score_of as score_of
from backend.survey_scale import survey_reply as survey_reply
from backend.workorders.commitments import to_local
from backend.workorders.states import OrderStatus

S = OrderStatus


def masked_name(name: str) -> str:
    """张** : the surname and a mask, how a customer is told who is coming."""
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else "工作人员"


def when(due: dt.datetime | None, now: dt.datetime) -> str:
    """预计 14:30 前 / 明天09:00前 / 12月8日09:00前, on the Shanghai clock."""
    if due is None:
        return ""
    local, today = to_local(due), to_local(now).date()
    if local.date() == today:
        return f"{local:%H:%M}前"
    if local.date() == today + dt.timedelta(days=1):
        return f"明天{local:%H:%M}前"
    return f"{local.month}月{local.day}日{local:%H:%M}前"  # "12月8日前" would read as by the 7th


# a step of the time limit as the customer waits for it
GOALS = {"accepted": "联系您", "en_route": "出发", "on_site": "到达现场", "resolved": "处理完毕"}


def expectation(step: str | None, due: dt.datetime | None, now: dt.datetime) -> str:
    if due is None or step is None:
        return ""
    return f"预计{when(due, now)}{GOALS.get(step, '处理')}"


def staff_deadline(step: str | None, due: dt.datetime | None, now: dt.datetime) -> str:
    """What the assignee must do by when: "请在18:25前接单"."""
    if due is None or step is None:
        return "请按时限处理"
    return f"请在{when(due, now)}{STEP_WORDS.get(step, '处理完毕')}"


def customer_update(
    status: str,
    *,
    service: str,
    number: str,
    team: str = "",
    who: str = "",
    expect: str = "",
    note: str = "",
    previous: str = "",
) -> str | None:
    """The message a status change sends the customer (None: nothing worth telling)."""
    head = f"您的{service}工单{number}"
    tail = f"，{expect}" if expect else ""
    note = note.strip().rstrip("。.！!；;，, ")  # the field note is set in our sentence, which has its own stop
    if status == S.DISPATCHED:
        by = f"，由{who}负责" if who else ""
        if previous == S.AWAITING_PAYMENT:
            return f"已收到您的缴费。{head}已安排复电，派给{team or '供电网格'}{by}{tail}。"
        if previous == S.CLOSED or previous == S.RESOLVED or previous == S.REOPENED:
            return f"{head}已重新安排处理，派给{team or '供电网格'}{by}{tail}。"
        return f"{head}已派给{team or '供电网格'}{by}{tail}。"
    if status == S.RECEIVED and previous == S.AWAITING_PAYMENT:
        return f"已收到您的缴费，{head}已安排复电{tail}。"
    if status == S.EN_ROUTE:
        return f"{head}：工作人员{who}已经出发{tail}，请保持电话畅通。"
    if status == S.RESOLVED:
        result = f"：{note}" if note else ""
        return f"{head}已处理完毕{result}。如果还有问题，请随时告诉我们。"
    if status == S.CANNOT_COMPLETE:
        reason = f"，原因：{note}" if note else ""
        return f"{head}暂时无法完成{reason}。我们会重新安排，并尽快和您联系。"
    if status == S.REOPENED:
        return f"{head}已重新安排处理，处理好后会再告诉您。"
    return None


SURVEY_CHAT = "您的{service}工单{number}已经办结。请为这次服务打个分：5 非常满意，1 非常不满意。"
SURVEY_SMS = (
    "【95598】您的{service}工单{number}已办结。请回复数字为本次服务评分："
    "5非常满意，4满意，3一般，2不满意，1非常不满意。"
)
SURVEY_THANKS = {
    "satisfied": "谢谢您的评价，祝您生活愉快！",
    "unsatisfied": "很抱歉这次没让您满意。我们已经安排专人复核，会尽快和您联系。",
    "none": "目前没有需要您评价的工单，谢谢。",
    "bad": "请回复1到5之间的数字：5非常满意，1非常不满意。",
    "noted": "您提的意见已经记下，会转给负责的班组。",  # before the thanks, when the answer came with a comment
}
STAFF = {
    "page": "【紧急工单】{number} {service}：{address}。{detail}请立即处理。",
    "assigned": "【新工单】{number} {service}：{address}，{expect}。",
    "warning": "【即将超时】工单{number}（{service}）应在{due}前{step}，请抓紧处理。",
    "overdue_leader": "【超时督办】工单{number}（{service}）已超过时限（{due}），处理人：{who}。请班长督办。",
    "overdue_supervisor": "【超时升级】工单{number}（{service}）超时未处理（时限{due}），班组：{team}。",
}
STEP_WORDS = {"accepted": "接单", "en_route": "出发", "on_site": "到达现场", "resolved": "处理完毕"}

"""What customers read (SMS, WeChat) and hear (a call) in a notice: short, polite, one SMS at most.

Written times read 12月5日08:00; spoken ones 明天上午8点 (backend.spoken); digits are read by the TTS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from backend.spoken import local_time, spoken_time
from notices.policy import check_sms_length

SIGN = "【国网95598】"
CALL_OPENING = "您好，这里是国家电网95598。"
CALL_CLOSING = "如有疑问，请拨打95598。感谢您的接听，再见。"


@dataclass(frozen=True)
class Message:
    text: str  # written: SMS, WeChat
    spoken: str  # a call


def _day_time(utc: dt.datetime) -> str:
    t = local_time(utc)
    return f"{t.month}月{t.day}日{t:%H:%M}"


def _clock(utc: dt.datetime) -> str:
    return f"{local_time(utc):%H:%M}"


def _checked(text: str, spoken: str) -> Message:
    check_sms_length(text)  # a template that renders too long is refused here, with the text in the error
    return Message(text, CALL_OPENING + spoken + CALL_CLOSING)


def planned_outage(area: str, start: dt.datetime, end: dt.datetime, reason: str, now: dt.datetime) -> Message:
    return _checked(
        f"{SIGN}您好，因{reason}，{area}将于{_day_time(start)}至{_clock(end)}停电，请提前做好准备，敬请谅解。",
        f"因为{reason}，{area}将在{spoken_time(start, _aware(now))}到{spoken_time(end, _aware(now))}停电，"
        "请您提前做好准备。",
    )


def fault_outage(area: str, expected_end: dt.datetime, now: dt.datetime) -> Message:
    return _checked(
        f"{SIGN}您好，{area}发生故障停电，抢修人员正在处理，预计{_day_time(expected_end)}前恢复，敬请谅解。",
        f"{area}发生故障停电，抢修人员正在处理，预计{spoken_time(expected_end, _aware(now))}前恢复供电。",
    )


def restoration(area: str) -> Message:
    return _checked(
        f"{SIGN}您好，{area}已恢复供电。如您家中仍未来电，请拨打95598报修。感谢您的耐心等待。",
        f"{area}已经恢复供电。如果您家里还是没有电，请拨打95598报修。",
    )


def arrears_reminder(account_no: str, owed: float, disconnect_on: dt.date) -> Message:
    day = f"{disconnect_on.month}月{disconnect_on.day}日"
    return _checked(
        f"{SIGN}您好，户号尾号{account_no[-4:]}的电费已欠{owed:.2f}元，请于{day}前缴清，以免停电。",
        f"您户号尾号{account_no[-4:]}的电费已经欠费{owed:.2f}元，请在{day}前缴清，以免停电。",
    )


def risk_reminder(account_no: str, period: str, due: dt.date) -> Message:
    """Before the due date, to a customer likely to fall behind: a plain reminder (never "you are at risk")."""
    month, day = f"{int(period[5:7])}月", f"{due.month}月{due.day}日"
    return _checked(
        f"{SIGN}您好，户号尾号{account_no[-4:]}的{month}电费将于{day}到期，请按时缴纳，可用网上国网、微信缴费。",
        f"您户号尾号{account_no[-4:]}的{month}电费将在{day}到期，请您按时缴纳，可以用网上国网或者微信缴费。",
    )


def _aware(now: dt.datetime) -> dt.datetime:
    return now.replace(tzinfo=dt.timezone.utc)

"""Channel-aware wording: what a screen shows differs from what a caller hears.

On a screen numbers stay exactly as typed (G26120300043) and times read 02:09; on a call the order number
is grouped for reading back digit by digit and times are spoken (明天凌晨2点零9分). Prompts for chat never
say 请说 / 没听清 / 按键 / 来电.
"""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker

from backend.contact_centre import Channel
from backend.spoken import LOCAL_TZ, local_time, spoken_time, written_numbers  # noqa: F401  (spoken_time re-exported)

CLOSING = "还有别的需要帮您的吗？"  # after a request is done, on every channel


def bot_said_last(tracker: Tracker) -> str:
    """The text of the bot's last message in this conversation ("" before it said anything)."""
    return next((e["text"] for e in reversed(tracker.events) if e.get("event") == "bot" and e.get("text")), "")


def month_words(month: str) -> str:
    """ "2026-11" as said: "2026年11月"."""
    return f"{int(month[:4])}年{int(month[5:])}月"


def is_voice(tracker: Tracker) -> bool:
    return tracker.get_slot("channel") == Channel.VOICE


def order_number(tracker: Tracker, number: str) -> str:
    if not is_voice(tracker):
        return number
    digits = number[1:]
    return f"{number[0]} {digits[:4]} {digits[4:8]} {digits[8:]}"


def time_of(tracker: Tracker, utc_naive: dt.datetime) -> str:
    if is_voice(tracker):
        return spoken_time(utc_naive)
    t = local_time(utc_naive)
    today = dt.datetime.now(LOCAL_TZ).date()
    day = {0: "今天", 1: "明天", 2: "后天"}.get((t.date() - today).days, f"{t.month}月{t.day}日")
    return f"{day} {t:%H:%M}"


def pick(tracker: Tracker, chat: str, voice: str) -> str:
    return voice if is_voice(tracker) else chat


def article_line(tracker: Tracker, spoken: str) -> str:
    """A knowledge article's short answer (written to be spoken): as is on a call, numbers as digits on a screen."""
    return spoken if is_voice(tracker) else written_numbers(spoken)

"""Numbers and times as people say them on the phone (shared by the NLU, actions and voice): spoken digit
runs (幺三九…) read as digits, and times in the service's local time zone."""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

DIGITS = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
SPOKEN_RUN = re.compile(r"[零〇洞一幺二两三四五六七八九](?:[\s\-]*[零〇洞一幺二两三四五六七八九0-9]){3,}")


def digits_in_place(text: str) -> str:
    """Spoken digit runs of four or more as Arabic digits, one character for one (spaces kept): what a
    caller's 户号 or phone number looks like once typed, with every offset into the text unchanged."""
    return SPOKEN_RUN.sub(lambda m: "".join(DIGITS.get(c, c) for c in m.group()), text or "")


def written_numbers(text: str) -> str:
    """A line written to be read aloud, for a screen: "拨打一二三四五" shows as "拨打12345". Only runs of three or
    more digit words are numbers said digit by digit (two, as in "三五天", are a count)."""
    return re.sub(r"[零幺一二三四五六七八九]{3,}", lambda m: "".join(DIGITS[c] for c in m.group()), text or "")


LOCAL_TZ = ZoneInfo(os.environ.get("P95598_TZ", "Asia/Shanghai"))


def local_time(utc_naive: dt.datetime) -> dt.datetime:
    """The back end stores naive UTC; callers hear local time."""
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ)


def spoken_time(utc_naive: dt.datetime, now: dt.datetime | None = None) -> str:
    """今天下午3点20分 / 明天上午8点 / 12月3日上午9点零5分."""
    t = local_time(utc_naive)
    today = (now or dt.datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).date()
    day = {0: "今天", 1: "明天", 2: "后天"}.get((t.date() - today).days, f"{t.month}月{t.day}日")
    part = (
        "凌晨"
        if t.hour < 6
        else "上午"
        if t.hour < 12
        else "中午"
        if t.hour < 13
        else "下午"
        if t.hour < 18
        else "晚上"
    )
    hour = t.hour if t.hour <= 12 else t.hour - 12
    minute = "" if not t.minute else f"零{t.minute}分" if t.minute < 10 else f"{t.minute}分"
    return f"{day}{part}{hour}点{minute}"

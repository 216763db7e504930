"""Times as an agent reads them on the phone, in the service's local time zone (shared by actions and voice)."""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo(os.environ.get("P95598_TZ", "Asia/Shanghai"))


def local_time(utc_naive: dt.datetime) -> dt.datetime:
    """The back end stores naive UTC; callers hear local time."""
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ)


def spoken_time(utc_naive: dt.datetime, now: dt.datetime | None = None) -> str:
    """今天下午3点20分 / 明天上午8点 / 12月3日上午9点零5分."""
    t = local_time(utc_naive)
    today = (now or dt.datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).date()
    day = {0: "今天", 1: "明天", 2: "后天"}.get((t.date() - today).days, f"{t.month}月{t.day}日")
    part = "凌晨" if t.hour < 6 else "上午" if t.hour < 12 else "中午" if t.hour < 13 else "下午" if t.hour < 18 else "晚上"
    hour = t.hour if t.hour <= 12 else t.hour - 12
    minute = "" if not t.minute else f"零{t.minute}分" if t.minute < 10 else f"{t.minute}分"
    return f"{day}{part}{hour}点{minute}"

"""What the actions talk to: the CIS, the knowledge service and the catalog, created on first use."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from actions.kb_client import KnowledgeClient
from backend.cis import CIS, SqlCIS
from backend.db import make_engine, make_sessionmaker
from knowledge.catalog import Catalog, catalog

LOCAL_TZ = ZoneInfo(os.environ.get("P95598_TZ", "Asia/Shanghai"))


@dataclass(frozen=True)
class Services:
    cis: CIS
    kb: KnowledgeClient
    catalog: Catalog


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(SqlCIS(make_sessionmaker(make_engine())), KnowledgeClient.from_env(), catalog())


def local_time(utc_naive: dt.datetime) -> dt.datetime:
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ)


def spoken_time(utc_naive: dt.datetime) -> str:
    """今天下午3点20分 / 明天上午8点 — how an agent reads a time on the phone."""
    t, today = local_time(utc_naive), dt.datetime.now(LOCAL_TZ).date()
    day = {0: "今天", 1: "明天", 2: "后天"}.get((t.date() - today).days, f"{t.month}月{t.day}日")
    part = "凌晨" if t.hour < 6 else "上午" if t.hour < 12 else "中午" if t.hour < 13 else "下午" if t.hour < 18 else "晚上"
    hour = t.hour if t.hour <= 12 else t.hour - 12
    minute = "" if not t.minute else f"零{t.minute}分" if t.minute < 10 else f"{t.minute}分"
    return f"{day}{part}{hour}点{minute}"


def money(amount: float) -> str:
    return f"{amount:.2f}元"

"""The console app's settings (from the environment) and the keys its shared objects live under."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from backend.cis import SqlCIS
from backend.contact import ContactStore
from backend.db import make_engine, make_sessionmaker
from channels.knowledge import KnowledgeClient
from knowledge.catalog import Catalog, catalog


@dataclass
class ConsoleConfig:
    contact: ContactStore
    cis: SqlCIS
    catalog: Catalog
    rasa_url: str
    knowledge_url: str = ""
    session_ttl: dt.timedelta = dt.timedelta(hours=8)
    secure_cookies: bool = False          # set behind HTTPS (P95598_SECURE_COOKIES=1)
    wechat_token: str = ""
    wechat_account: str = ""               # replies are signed with the ToUserName WeChat sent us
    wechat_appid: str = ""
    wechat_secret: str = ""
    demo_agents: bool = True              # create demo logins in an empty database (embedded profile)
    redis_url: str = ""                   # scale profile: deliveries between instances over Redis pub/sub
    redis_prefix: str = "p95598"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, db_url: str | None = None) -> "ConsoleConfig":
        sessions = make_sessionmaker(make_engine(db_url))
        env = os.environ.get
        return cls(contact=ContactStore(sessions), cis=SqlCIS(sessions), catalog=catalog(),
                   rasa_url=env("P95598_RASA_URL", "http://127.0.0.1:5005"),
                   knowledge_url=env("P95598_KNOWLEDGE_URL", ""),
                   session_ttl=dt.timedelta(minutes=int(env("P95598_SESSION_MINUTES", "480"))),
                   secure_cookies=env("P95598_SECURE_COOKIES", "") == "1",
                   wechat_token=env("P95598_WECHAT_TOKEN", ""), wechat_account=env("P95598_WECHAT_ACCOUNT", ""),
                   wechat_appid=env("P95598_WECHAT_APPID", ""), wechat_secret=env("P95598_WECHAT_SECRET", ""),
                   demo_agents=env("P95598_DEMO_AGENTS", "1") == "1",
                   redis_url=env("P95598_REDIS_URL", "") if env("P95598_PROFILE") == "scale" else "",
                   redis_prefix=env("P95598_REDIS_PREFIX", "p95598"))


CONFIG = web.AppKey("config", ConsoleConfig)
HTTP = web.AppKey("http", aiohttp.ClientSession)
HUB = web.AppKey("hub", object)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeClient)   # answers an agent may send (empty without a service URL)

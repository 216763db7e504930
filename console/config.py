"""The console process's settings (one frozen object, read from the environment once in __main__, checked when
built) and the typed keys its shared objects live under on the app."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from backend import cis
from backend.contact_centre import ContactStore
from backend.db import REPO, database_url
from backend.settings import stored_secrets
from backend.workorders import WorkOrders
from backend.workorders.runner import NoticeRunner
from channels.knowledge import KnowledgeClient
from channels.sms import SmsSender
from console.hub import Hub
from console.wechat import WeChatWebhook
from knowledge.catalog import Catalog

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    pass


def parse_proxies(text: str) -> tuple[Network, ...]:
    """P95598_TRUSTED_PROXIES: addresses or networks of our own reverse proxies (ingress), comma-separated."""
    nets = []
    for item in filter(None, (i.strip() for i in text.split(","))):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"P95598_TRUSTED_PROXIES: {item!r} is not an address or network") from None
    return tuple(nets)


def _seconds(text: str, name: str = "P95598_OFFER_SECONDS") -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {text!r}") from None


@dataclass(frozen=True)
class ConsoleConfig:
    db_url: str
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""  # Rasa's HTTP API token (the stack's var/secrets.env outside production)
    knowledge_url: str = ""  # answers an agent may send ('' = none)
    session_ttl: dt.timedelta = dt.timedelta(hours=8)
    secure_cookies: bool = False  # set behind HTTPS (P95598_SECURE_COOKIES=1)
    trusted_proxies: tuple[Network, ...] = ()  # X-Forwarded-For is believed only from these
    wechat_token: str = ""
    wechat_account: str = ""  # replies are signed with the ToUserName WeChat sent us
    wechat_appid: str = ""
    wechat_secret: str = ""
    redis_url: str = ""  # scale profile: deliveries between instances over Redis pub/sub
    redis_prefix: str = "p95598"
    sms_url: str = ""  # the operator's SMS gateway ('' = messages are only logged)
    sms_key: str = ""  # shared key signing SMS requests both ways (replies are refused without one)
    payment_key: str = ""  # shared key of the payment feed (/payments/notify refused without one)
    orders_interval: float = 1.0  # seconds between rounds of the work-order loop (0: not in this process)
    offer_seconds: float = 20.0  # how long an agent has to accept a routed case (P95598_OFFER_SECONDS)
    chat_leave_seconds: float = 120.0  # a waiting customer gone so long leaves (P95598_CHAT_LEAVE_SECONDS)
    routing_policy: str = "longest_idle"  # or first_free, the benchmark's baseline (P95598_ROUTING_POLICY)
    tracker_db: str = ""  # Rasa's SQLite tracker store, embedded profile (P95598_TRACKER_DB): the bot's figures
    attachments_dir: str = str(REPO / "var" / "attachments")  # customers' photos (P95598_ATTACHMENTS_DIR)
    insight_history: str = str(REPO / "var" / "insight" / "history")  # the insight Parquet (P95598_INSIGHT_HISTORY)

    def __post_init__(self) -> None:
        if "://" not in self.db_url:
            raise ConfigError(f"P95598_DB_URL must be an SQLAlchemy URL, got {self.db_url!r}")
        for name, url in (("P95598_RASA_URL", self.rasa_url), ("P95598_KNOWLEDGE_URL", self.knowledge_url)):
            if url and not url.startswith(("http://", "https://")):
                raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
        if not self.rasa_url:
            raise ConfigError("P95598_RASA_URL must be set")
        if self.session_ttl <= dt.timedelta(0):
            raise ConfigError("P95598_SESSION_MINUTES must be positive")
        if self.wechat_appid and not self.wechat_secret:
            raise ConfigError("P95598_WECHAT_SECRET must be set with P95598_WECHAT_APPID")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"P95598_REDIS_URL must be a redis:// URL, got {self.redis_url!r}")
        if not 1 <= self.chat_leave_seconds <= 3600:
            raise ConfigError(f"P95598_CHAT_LEAVE_SECONDS must be 1-3600 seconds, got {self.chat_leave_seconds}")
        if not 3 <= self.offer_seconds <= 300:
            raise ConfigError(f"P95598_OFFER_SECONDS must be 3-300 seconds, got {self.offer_seconds}")
        if self.routing_policy not in ("longest_idle", "first_free"):
            raise ConfigError(f"P95598_ROUTING_POLICY must be longest_idle or first_free, got {self.routing_policy!r}")
        object.__setattr__(self, "rasa_url", self.rasa_url.rstrip("/"))
        object.__setattr__(self, "knowledge_url", self.knowledge_url.rstrip("/"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleConfig:
        env = os.environ if env is None else env
        var = Path(env.get("P95598_VAR") or REPO / "var")
        try:
            minutes = int(env.get("P95598_SESSION_MINUTES", "480"))
        except ValueError:
            raise ConfigError("P95598_SESSION_MINUTES must be a number of minutes") from None
        return cls(
            db_url=env.get("P95598_DB_URL") or database_url(),
            rasa_url=env.get("P95598_RASA_URL", "http://127.0.0.1:5005"),
            rasa_token=env.get("P95598_RASA_TOKEN") or stored_secrets(var / "secrets.env").get("P95598_RASA_TOKEN", ""),
            knowledge_url=env.get("P95598_KNOWLEDGE_URL", ""),
            session_ttl=dt.timedelta(minutes=minutes),
            secure_cookies=env.get("P95598_SECURE_COOKIES", "") == "1",
            trusted_proxies=parse_proxies(env.get("P95598_TRUSTED_PROXIES", "")),
            wechat_token=env.get("P95598_WECHAT_TOKEN", ""),
            wechat_account=env.get("P95598_WECHAT_ACCOUNT", ""),
            wechat_appid=env.get("P95598_WECHAT_APPID", ""),
            wechat_secret=env.get("P95598_WECHAT_SECRET", ""),
            redis_url=env.get("P95598_REDIS_URL", "") if env.get("P95598_PROFILE") == "scale" else "",
            redis_prefix=env.get("P95598_REDIS_PREFIX", "p95598"),
            sms_url=env.get("P95598_SMS_URL", ""),
            sms_key=env.get("P95598_SMS_KEY", ""),
            payment_key=env.get("P95598_PAYMENT_KEY", ""),
            orders_interval=float(env.get("P95598_ORDERS_INTERVAL", "1.0")),
            offer_seconds=_seconds(env.get("P95598_OFFER_SECONDS", "20")),
            chat_leave_seconds=_seconds(env.get("P95598_CHAT_LEAVE_SECONDS", "120"), "P95598_CHAT_LEAVE_SECONDS"),
            routing_policy=env.get("P95598_ROUTING_POLICY", "longest_idle"),
            tracker_db=env.get("P95598_TRACKER_DB", ""),
            attachments_dir=env.get("P95598_ATTACHMENTS_DIR") or str(var / "attachments"),
            insight_history=env.get("P95598_INSIGHT_HISTORY") or str(var / "insight" / "history"),
        )


CONFIG = web.AppKey("config", ConsoleConfig)
CONTACT = web.AppKey("contact", ContactStore)  # opened and closed in app.database
CIS = web.AppKey("cis", cis.CIS)
CATALOG = web.AppKey("catalog", Catalog)
HTTP = web.AppKey("http", aiohttp.ClientSession)
HUB = web.AppKey("hub", Hub)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeClient)  # answers an agent may send (empty without a service URL)
WECHAT = web.AppKey("wechat", WeChatWebhook)
ORDERS = web.AppKey("orders", WorkOrders)  # the work-order desk (backend.workorders), opened in app.database
ORDERS_RUNNER = web.AppKey("orders_runner", NoticeRunner)  # this instance's work-order loop (console.order_updates)
SMS = web.AppKey("sms", SmsSender)

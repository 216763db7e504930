"""The notice process's settings, from the environment (P95598_NOTICE_*, the SMS, WeChat and Twilio accounts)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from backend.db import database_url


class ConfigError(ValueError):
    pass


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name, default))
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None


@dataclass(frozen=True)
class NoticesConfig:
    db_url: str = ""
    sms_url: str = ""  # the operator's SMS gateway ('' = logged only)
    sms_key: str = ""  # the shared key signing SMS requests and delivery reports
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_template: str = ""  # the template id of notices (one {{content.DATA}} field)
    wechat_api: str = "https://api.weixin.qq.com"
    twilio_sid: str = ""
    twilio_token: str = ""  # also checks X-Twilio-Signature on the call status callback
    twilio_from: str = ""
    twilio_api: str = "https://api.twilio.com"
    callback_url: str = ""  # the console's public URL, for Twilio's status callback (and its signature)
    interval: float = 1.0
    scan_every: float = 60.0
    lease: dt.timedelta = dt.timedelta(seconds=30)
    planned_lead: dt.timedelta = dt.timedelta(hours=24)
    arrears_grace: dt.timedelta = dt.timedelta(days=7)
    arrears_remind: dt.timedelta = dt.timedelta(days=3)
    risk_remind: dt.timedelta = dt.timedelta(days=7)  # before a 高-risk customer's bill is due
    rates: dict[str, float] = field(default_factory=lambda: {"sms": 50.0, "wechat": 50.0, "voice": 5.0})

    @property
    def twilio_status_url(self) -> str:
        return f"{self.callback_url.rstrip('/')}/notices/twilio/status"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NoticesConfig:
        env = os.environ if env is None else env
        return cls(
            db_url=env.get("P95598_DB_URL") or database_url(),
            sms_url=env.get("P95598_SMS_URL", ""),
            sms_key=env.get("P95598_SMS_KEY", ""),
            wechat_appid=env.get("P95598_WECHAT_APPID", ""),
            wechat_secret=env.get("P95598_WECHAT_SECRET", ""),
            wechat_template=env.get("P95598_WECHAT_NOTICE_TEMPLATE", ""),
            wechat_api=env.get("P95598_WECHAT_API", "https://api.weixin.qq.com"),
            twilio_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from=env.get("P95598_NOTICE_CALLER_ID", ""),
            twilio_api=env.get("P95598_TWILIO_API", "https://api.twilio.com"),
            callback_url=env.get("P95598_NOTICE_CALLBACK_URL", ""),
            interval=_number(env, "P95598_NOTICE_INTERVAL", 1.0),
            scan_every=_number(env, "P95598_NOTICE_SCAN_SECONDS", 60.0),
            lease=dt.timedelta(seconds=_number(env, "P95598_NOTICE_LEASE_SECONDS", 30.0)),
            planned_lead=dt.timedelta(hours=_number(env, "P95598_PLANNED_NOTICE_HOURS", 24.0)),
            arrears_grace=dt.timedelta(days=_number(env, "P95598_ARREARS_GRACE_DAYS", 7.0)),
            arrears_remind=dt.timedelta(days=_number(env, "P95598_ARREARS_REMIND_DAYS", 3.0)),
            risk_remind=dt.timedelta(days=_number(env, "P95598_RISK_REMIND_DAYS", 7.0)),
            rates={
                "sms": _number(env, "P95598_NOTICE_RATE_SMS", 50.0),
                "wechat": _number(env, "P95598_NOTICE_RATE_WECHAT", 50.0),
                "voice": _number(env, "P95598_NOTICE_RATE_VOICE", 5.0),
            },
        )

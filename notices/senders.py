"""The three customer senders and what each asks its gateway about a notice in doubt.

Every sender has `send(notice) -> gateway reference` and `find(notice) -> gateway reference | None`: `find` is
asked before resending a notice whose earlier attempt has no recorded outcome (the sender died between sending
and marking), so the far side gets it once:
- SMS: the gateway's query by our message id (GET /query?id=N<id>, signed like every request).
- WeChat: no query API; the template message carries our id as `client_msg_id`, which WeChat sends once per
  openid within 10 minutes. A notice in doubt for longer is given up for a person to check, never resent.
- Twilio: the call's status callback URL carries ?ref=N<id>; the Calls list (To, From, StartTime>=) is searched
  for it (a call to the number made after our attempt counts where the list shows no callback URL).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
from twilio.twiml.voice_response import VoiceResponse

from channels.sms import SIGNATURE, HttpSmsGateway, sign
from channels.wechat_api import WeChatApiError, WeChatApiSender
from notices.outbox import Outgoing

log = logging.getLogger(__name__)
WECHAT_DEDUPE_WINDOW = dt.timedelta(minutes=9)  # WeChat's client_msg_id holds 10 minutes; a minute's margin
CLOCK_SKEW = dt.timedelta(seconds=5)


class GiveUp(RuntimeError):
    """Sending again could deliver twice and nothing can tell: the notice fails with this reason."""


class Sender(Protocol):
    async def send(self, notice: Outgoing) -> str: ...

    async def find(self, notice: Outgoing) -> str | None: ...


class SmsNoticeSender:
    def __init__(self, http: aiohttp.ClientSession, url: str, key: str, timeout: float = 5.0):
        self.gateway = HttpSmsGateway(http, url, key, timeout)

    async def send(self, notice: Outgoing) -> str:
        await self.gateway.send_sms(notice.recipient, notice.text, notice.ref)
        return notice.ref

    async def find(self, notice: Outgoing) -> str | None:
        g = self.gateway
        query = urlencode({"id": notice.ref})
        headers = {SIGNATURE: sign(g.key, query.encode())}
        async with g.http.get(f"{g.url}/query?{query}", headers=headers, timeout=g.timeout) as r:
            if r.status == 404:
                return None
            r.raise_for_status()
            found = await r.json(content_type=None)
        return str(found.get("id") or notice.ref)


class WeChatTemplateSender(WeChatApiSender):
    """Template messages (the only kind WeChat lets a service account send unprompted); the template has one
    field, {{content.DATA}}."""

    def __init__(self, http: aiohttp.ClientSession, appid: str, secret: str, template_id: str, base_url: str):
        super().__init__(http, appid, secret, base_url)
        self.template_id = template_id

    async def send(self, notice: Outgoing) -> str:
        body = json.dumps(
            {
                "touser": notice.recipient,
                "template_id": self.template_id,
                "client_msg_id": notice.ref,
                "data": {"content": {"value": notice.text}},
            },
            ensure_ascii=False,
        )
        result = await self.post_with_token("/cgi-bin/message/template/send", body)
        if result.get("errcode", 0) != 0:
            raise WeChatApiError(f"template/send: {result['errcode']} {result.get('errmsg', '')}")
        return str(result.get("msgid", notice.ref))

    async def find(self, notice: Outgoing) -> str | None:
        started = notice.previous_attempt
        if started is not None and notice.attempt_started - started > WECHAT_DEDUPE_WINDOW:
            raise GiveUp("in doubt past WeChat's 10-minute client_msg_id window: not resent, check by hand")
        return None  # resent with the same client_msg_id: WeChat drops it if the first one got through


def call_twiml(notice: Outgoing) -> str:
    """What the customer hears: the notice twice (the first words are often missed while picking up)."""
    response = VoiceResponse()
    audio = notice.payload.get("audio_url")
    for _ in range(2):
        if isinstance(audio, str) and audio:
            response.play(audio)  # a clip rendered with the product's Mandarin voice, where one is served
        else:
            response.say(notice.spoken or notice.text, language="zh-CN")
        response.pause(length=1)
    response.hangup()
    return str(response)


class TwilioCallSender:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_url: str,
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ):
        self.http, self.sid, self.from_number, self.status_url = http, account_sid, from_number, status_url
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.calls_url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Calls.json"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def callback(self, notice: Outgoing) -> str:
        return f"{self.status_url}?{urlencode({'ref': notice.ref})}"

    async def send(self, notice: Outgoing) -> str:
        form = {
            "To": notice.recipient,
            "From": self.from_number,
            "Twiml": call_twiml(notice),
            "StatusCallback": self.callback(notice),
            "StatusCallbackEvent": "completed",
        }
        async with self.http.post(self.calls_url, data=form, auth=self.auth, timeout=self.timeout) as r:
            result = await r.json(content_type=None)
            if r.status >= 300:
                raise RuntimeError(f"Twilio Calls.create answered {r.status}: {result.get('message', '')}")
        return str(result["sid"])

    async def find(self, notice: Outgoing) -> str | None:
        since = (notice.previous_attempt or notice.attempt_started) - CLOCK_SKEW
        params = {"To": notice.recipient, "From": self.from_number, "StartTime>=": since.date().isoformat()}
        async with self.http.get(self.calls_url, params=params, auth=self.auth, timeout=self.timeout) as r:
            r.raise_for_status()
            calls = (await r.json(content_type=None)).get("calls", [])
        ours = self.callback(notice)
        for call in calls:
            callback = call.get("status_callback") or ""
            if callback == ours or (not callback and _created(call) >= since):
                return str(call["sid"])
        return None


def _created(call: dict[str, Any]) -> dt.datetime:
    try:
        return email.utils.parsedate_to_datetime(call["date_created"]).astimezone(dt.UTC).replace(tzinfo=None)
    except (KeyError, TypeError, ValueError):
        return dt.datetime.min


class LoggedSender:
    """A channel with no gateway configured (development): the notice is logged and kept, nothing leaves."""

    def __init__(self, channel: str):
        self.channel = channel
        self.sent: list[Outgoing] = []

    async def send(self, notice: Outgoing) -> str:
        self.sent.append(notice)
        log.info("notice %s (%s) by %s, no gateway configured: %s", notice.ref, notice.kind, self.channel, notice.text)
        return notice.ref

    async def find(self, notice: Outgoing) -> str | None:
        return notice.ref if any(n.id == notice.id for n in self.sent) else None

"""SMS through an operator's gateway: outgoing texts, and the replies customers send back (survey keys 1-5).

The gateway speaks JSON over HTTPS; every request either way is signed with HMAC-SHA256 of the body under a
shared key (header X-Signature), and each outgoing message carries our notice id, which the gateway uses to
drop a repeat. `RecordingSms` keeps messages in memory where no gateway is configured (development).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)
SIGNATURE = "X-Signature"


class SmsSender(Protocol):
    async def send_sms(self, phone: str, text: str, message_id: str) -> None: ...


def sign(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def signed(key: str, body: bytes, signature: str | None) -> bool:
    return bool(key and signature) and hmac.compare_digest(sign(key, body), str(signature))


class SmsGatewayError(RuntimeError):
    pass


class HttpSmsGateway:
    def __init__(self, http: aiohttp.ClientSession, url: str, key: str, timeout: float = 5.0):
        self.http, self.url, self.key = http, url.rstrip("/"), key
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send_sms(self, phone: str, text: str, message_id: str) -> None:
        body = json.dumps({"to": phone, "text": text, "id": message_id}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", SIGNATURE: sign(self.key, body)}
        async with self.http.post(f"{self.url}/send", data=body, headers=headers, timeout=self.timeout) as r:
            if r.status >= 300:
                raise SmsGatewayError(f"SMS gateway answered {r.status}")


class RecordingSms:
    """No gateway configured: messages are logged (masked) and kept, nothing leaves the machine."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_sms(self, phone: str, text: str, message_id: str) -> None:
        self.sent.append({"to": phone, "text": text, "id": message_id})
        log.info("SMS (not sent, no gateway) to %s******: %s", phone[:3], text[:40])


def parse_reply(body: bytes) -> tuple[str, str] | None:
    """(phone, text) of a customer's reply the gateway forwards, or None if it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("from"), str) or not isinstance(data.get("text"), str):
        return None
    return data["from"], data["text"]

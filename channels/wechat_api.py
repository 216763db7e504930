"""The WeChat Official Account API client: the access_token fetched, cached and refreshed, and signed-in POSTs.

Shared by the console's customer-service replies (console.wechat) and the outbound notices (notices.senders).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

TOKEN_EXPIRED_ERRCODES = {40001, 42001}
TOKEN_REFRESH_MARGIN = 300


class WeChatApiError(RuntimeError):
    """An errcode from the WeChat API (other than an expired token, which is refreshed once)."""


class WeChatApiSender:
    """The customer-service message API, with the access_token fetched, cached and refreshed as needed."""

    def __init__(
        self, http: aiohttp.ClientSession, appid: str, secret: str, base_url: str = "https://api.weixin.qq.com"
    ):
        self.http, self.appid, self.secret, self.base_url = http, appid, secret, base_url.rstrip("/")
        self.token: str | None = None
        self.token_expires_at = 0.0
        self.token_lock = asyncio.Lock()

    async def send_text(self, openid: str, text: str) -> None:
        body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
        result = await self.post_with_token("/cgi-bin/message/custom/send", body)
        if result.get("errcode", 0) != 0:
            raise WeChatApiError(f"custom/send: {result['errcode']} {result.get('errmsg', '')}")

    async def post_with_token(self, path: str, body: str) -> dict[str, Any]:
        """POSTs `body` to an API path with the access token, fetched again once if WeChat says it expired."""
        token = await self.access_token()
        result = await self.post_message(token, body, path)
        if result.get("errcode") in TOKEN_EXPIRED_ERRCODES:
            result = await self.post_message(await self.access_token(replacing=token), body, path)
        return result

    async def access_token(self, replacing: str | None = None) -> str:
        """The cached token; a new one when it is near expiry or is `replacing` (refused by WeChat)."""
        async with self.token_lock:  # one fetch when many sends find the token stale at once
            if self.token is None or self.token == replacing or time.monotonic() >= self.token_expires_at:
                return await self.fetch_token()
            return self.token

    async def fetch_token(self) -> str:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        async with self.http.get(f"{self.base_url}/cgi-bin/token", params=params) as r:
            r.raise_for_status()
            result = await r.json(content_type=None)
        if "access_token" not in result:
            raise WeChatApiError(f"token: {result.get('errcode')} {result.get('errmsg', 'no access_token')}")
        token = self.token = str(result["access_token"])
        self.token_expires_at = time.monotonic() + int(result.get("expires_in", 7200)) - TOKEN_REFRESH_MARGIN
        return token

    async def post_message(self, token: str, body: str, path: str = "/cgi-bin/message/custom/send") -> dict[str, Any]:
        async with self.http.post(
            f"{self.base_url}{path}",
            params={"access_token": token},
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        ) as r:
            r.raise_for_status()
            result: dict[str, Any] = await r.json(content_type=None)
            return result

"""Twilio's REST API for recordings, as far as the gateway uses it: GET …/Recordings/{RecordingSid}.wav with basic
auth (account SID, auth token). Files are put in `recordings` by the test; an unknown one is a 404 like Twilio's.

    api = FakeTwilioApi("AC…", token)
    async with api.serving() as base:        # http://127.0.0.1:port, the gateway's twilio_api_base
        api.recordings["RE…"] = wav_bytes
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeTwilioApi:
    account_sid: str
    auth_token: str
    recordings: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # paths asked for, in order
    refused: int = 0  # requests without the right credentials

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2010-04-01/Accounts/{account}/Recordings/{name}", self.media)
        return app

    async def media(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if not self._authorised(request.headers.get("Authorization", "")):
            self.refused += 1
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        sid, _, ext = request.match_info["name"].partition(".")
        if request.match_info["account"] != self.account_sid or sid not in self.recordings or ext != "wav":
            return web.json_response({"code": 20404, "message": "not found", "status": 404}, status=404)
        return web.Response(body=self.recordings[sid], content_type="audio/x-wav")

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme == "Basic" and user == self.account_sid and password == self.auth_token

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        runner = web.AppRunner(self.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()


def recording_callback(
    call_sid: str, recording_sid: str, account_sid: str, status: str = "completed"
) -> dict[str, str]:
    """The form Twilio posts to a recordingStatusCallback."""
    return {
        "AccountSid": account_sid,
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Recordings/{recording_sid}",
        "RecordingStatus": status,
        "RecordingDuration": "4",
        "RecordingChannels": "2",
        "RecordingSource": "StartCallRecordingTwiML",
        "RecordingStartTime": "Fri, 04 Dec 2026 21:40:00 +0000",
    }

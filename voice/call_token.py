"""A per-call token that binds the caller number to the media stream.

`/voice/incoming` is signed by Twilio, so the caller number in it is true; the media stream's `start` frame
is not signed, so its number alone proves nothing (one captured stream signature would serve any number).
The webhook therefore mints HMAC(CallSid | caller | expiry) into the <Stream> parameters, and the gateway
trusts the caller number of a `start` only when that token checks out.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TTL_SECONDS = 120  # Twilio opens the stream within seconds of our TwiML answer


def _mac(secret: str, call_sid: str, caller: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{call_sid}|{caller}|{expires}".encode(), hashlib.sha256).hexdigest()


def mint(secret: str, call_sid: str, caller: str, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + TTL_SECONDS)
    return f"{expires}.{_mac(secret, call_sid, caller, expires)}"


def valid(secret: str, token: str, call_sid: str, caller: str, now: float | None = None) -> bool:
    expires, _, mac = (token or "").partition(".")
    if not secret or not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(mac, _mac(secret, call_sid, caller, int(expires)))

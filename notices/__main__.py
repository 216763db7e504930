"""python -m notices run | scan

run   the sender of customer notices (WeChat, SMS, calls) with the triggers' scan every P95598_NOTICE_SCAN_SECONDS
scan  one pass of the triggers (outages, restorations, arrears), printing what it wrote
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging

import aiohttp

from backend.db import make_engine, make_sessionmaker
from backend.models import utcnow
from backend.models_notices import NoticeChannel
from notices import triggers
from notices.config import NoticesConfig
from notices.runner import NoticeRunner
from notices.senders import LoggedSender, Sender, SmsNoticeSender, TwilioCallSender, WeChatTemplateSender


def senders(http: aiohttp.ClientSession, cfg: NoticesConfig) -> dict[str, Sender]:
    """One sender per customer channel: the real gateway where configured, else logged only."""
    out: dict[str, Sender] = {
        c: LoggedSender(c) for c in (NoticeChannel.SMS, NoticeChannel.WECHAT, NoticeChannel.VOICE)
    }
    if cfg.sms_url:
        out[NoticeChannel.SMS] = SmsNoticeSender(http, cfg.sms_url, cfg.sms_key)
    if cfg.wechat_appid and cfg.wechat_template:
        out[NoticeChannel.WECHAT] = WeChatTemplateSender(
            http, cfg.wechat_appid, cfg.wechat_secret, cfg.wechat_template, cfg.wechat_api
        )
    if cfg.twilio_sid and cfg.twilio_from and cfg.callback_url:
        out[NoticeChannel.VOICE] = TwilioCallSender(
            http, cfg.twilio_sid, cfg.twilio_token, cfg.twilio_from, cfg.twilio_status_url, cfg.twilio_api
        )
    return out


async def run(cfg: NoticesConfig) -> None:
    sessions = make_sessionmaker(make_engine(cfg.db_url))
    async with aiohttp.ClientSession() as http:
        runner = NoticeRunner(sessions, senders(http, cfg), lease=cfg.lease, rates=cfg.rates)
        logging.getLogger(__name__).info("notices: sending %s", sorted(runner.channels))
        await runner.run(cfg.interval, scan=lambda now: triggers.scan(sessions, cfg, now), scan_every=cfg.scan_every)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m notices")
    p.add_argument("command", choices=["run", "scan"])
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = NoticesConfig.from_env()
    if a.command == "scan":
        sessions = make_sessionmaker(make_engine(cfg.db_url))
        print(json.dumps(triggers.scan(sessions, cfg, utcnow()), ensure_ascii=False))
        return
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(cfg))


if __name__ == "__main__":
    main()

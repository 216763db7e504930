"""The work-order loop as a process of its own (the console runs one too; any number may run at once):

python -m backend.workorders run [--interval 1.0]     sweep time limits and send notices (SMS via P95598_SMS_URL)
python -m backend.workorders sweep                    one supervision sweep, then exit
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os

import aiohttp

from backend.db import database_url, make_engine, make_sessionmaker
from backend.workorders.runner import LoggedNotices, NoticeRunner, Sender, SmsNotices
from backend.workorders.supervision import sweep
from channels.sms import HttpSmsGateway, RecordingSms


async def run(url: str, interval: float) -> None:
    sessions = make_sessionmaker(make_engine(url))
    async with aiohttp.ClientSession() as http:
        sms_url = os.environ.get("P95598_SMS_URL", "")
        sms = HttpSmsGateway(http, sms_url, os.environ.get("P95598_SMS_KEY", "")) if sms_url else RecordingSms()
        logged = LoggedNotices()
        # chat notices need a console (the customer's sockets): this process leaves them to the consoles
        senders: dict[str, Sender] = {"sms": SmsNotices(sms), "console": logged}
        await NoticeRunner(sessions, senders, interval=interval, channels=set(senders)).run()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m backend.workorders")
    p.add_argument("command", choices=["run", "sweep"])
    p.add_argument("--url", default=None)
    p.add_argument("--interval", type=float, default=1.0)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = a.url or database_url()
    if a.command == "sweep":
        print(json.dumps({"looked_at": sweep(make_sessionmaker(make_engine(url)))}))
        return
    asyncio.run(run(url, a.interval))


if __name__ == "__main__":
    main()

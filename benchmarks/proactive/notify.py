"""Notices to 10,000 customers across kill -9 of the sender: 0 duplicates and 0 lost at the far side.

    python -m benchmarks.proactive.notify [--customers 10000] [--kills 2]

A scratch SQLite back end gets N customers (30 % bound to WeChat, 60 % on a mobile -> SMS, 10 % on a landline
-> call; no quiet hours set, so the run does not depend on the hour), one notify() for all of them, and the real
sender process `python -m notices run` against the fake SMS, WeChat and Twilio gateways (in this process). The
sender is killed with SIGKILL at about 30 % and 65 % sent and started again each time. At the end every
gateway's requests are counted by our reference: a reference twice is a duplicate, a notice without one is lost.
Writes benchmarks/proactive/notify_results.json (the surge benchmark owns run.py and results.json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from backend import models as m
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.models_notices import NoticePreference, NoticeStatus, OutboundNotice
from benchmarks.common import command_line, write_results
from notices import notify
from notices.testing.fakes import Fakes, env_for, running_fakes

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("notify_results.json")
TEXT = "【国网95598】您好，您所在区域明天上午8点至下午5点计划停电检修，请提前做好准备，敬请谅解。"


def seed(url: str, n: int) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    accounts = [f"33{i:08d}" for i in range(n)]
    with sessions.begin() as s:
        s.execute(
            insert(m.Area),
            [{"code": f"B{a:02d}", "name": f"基准网格{a}", "district": "城东区", "streets": []} for a in range(10)],
        )
        rows = []
        for i, acc in enumerate(accounts):
            phone = f"0258{i:07d}" if i % 10 == 9 else f"139{i:08d}"
            rows.append(
                {
                    "account_no": acc,
                    "name": "客户",
                    "id_number_masked": "x",
                    "phone": phone,
                    "address": "城东区",
                    "area_code": f"B{i % 10:02d}",
                    "tags": [],
                    "channels": [],
                }
            )
        s.execute(insert(m.Customer), rows)
        wechat = [acc for i, acc in enumerate(accounts) if i % 10 < 3]
        s.execute(
            insert(m.ChannelBinding),
            [{"channel_user": f"wechat:o{acc}", "conversation_id": f"c{acc}"} for acc in wechat],
        )
        s.execute(
            insert(m.Verification),
            [{"conversation_id": f"c{acc}", "account_no": acc, "method": "last4", "strength": 1} for acc in wechat],
        )
        s.execute(
            insert(NoticePreference),
            [{"account_no": acc, "quiet_start": "00:00", "quiet_end": "00:00", "opted_out": []} for acc in accounts],
        )
    t = time.perf_counter()
    with sessions.begin() as s:
        written = notify(
            s, audience="customer", kind="planned_outage", key="bench:planned:1", text=TEXT, accounts=accounts
        )
    print(f"notify(): {written.written} notices written in {time.perf_counter() - t:.2f} s", flush=True)
    engine.dispose()
    return accounts


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        out = {
            str(k): int(v)
            for k, v in s.execute(select(OutboundNotice.status, func.count()).group_by(OutboundNotice.status))
            .tuples()
            .all()
        }
        out["ids"] = int(s.scalar(select(func.max(OutboundNotice.id))) or 0)
    engine.dispose()
    return out


def start_sender(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "notices", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def bench(n: int, kills: int, lease: float) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    url = f"sqlite:///{work / 'backend.db'}"
    seed(url, n)
    expected = n
    async with running_fakes() as fakes:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "P95598_DB_URL": url,
            **env_for(fakes),
            "P95598_NOTICE_LEASE_SECONDS": str(lease),
            "P95598_NOTICE_INTERVAL": "0.2",
            "P95598_NOTICE_SCAN_SECONDS": "3600",
            "P95598_NOTICE_RATE_SMS": "5000",
            "P95598_NOTICE_RATE_WECHAT": "5000",
            "P95598_NOTICE_RATE_VOICE": "5000",
        }
        kill_at = [int(expected * f) for f in (0.3, 0.65, 0.8, 0.9)[:kills]]
        start = time.perf_counter()
        proc, killed = start_sender(env, work / "notices.log"), 0
        while True:
            await asyncio.sleep(0.1)
            reached = len(fakes.sent_by_ref())
            if killed < len(kill_at) and reached >= kill_at[killed]:
                os.killpg(proc.pid, signal.SIGKILL)  # our own child's session only
                proc.wait()
                killed += 1
                print(f"kill -9 #{killed} at {reached} notices at the gateways; restarted", flush=True)
                proc = start_sender(env, work / "notices.log")
            done = await asyncio.to_thread(counts, url)
            if done.get(NoticeStatus.SENT, 0) >= expected or time.perf_counter() - start > 600:
                break
        elapsed = time.perf_counter() - start
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        return result(fakes, n, expected, killed, elapsed, done)


def result(fakes: Fakes, n: int, expected: int, kills: int, elapsed: float, done: dict[str, int]) -> dict[str, object]:
    by_ref = fakes.sent_by_ref()
    wanted = {f"N{i}" for i in range(1, done["ids"] + 1)}
    return {
        "customers": n,
        "notices": expected,
        "kills": kills,
        "seconds": round(elapsed, 1),
        "notices_per_second": round(expected / elapsed, 1),
        "by_channel": {"sms": len(fakes.sms), "wechat": len(fakes.wechat_delivered), "voice": len(fakes.calls)},
        "wechat_requests": len(fakes.wechat),  # repeats of an in-doubt notice, dropped by WeChat's client_msg_id
        "duplicates": sum(1 for c in by_ref.values() if c > 1),
        "lost": len(wanted - set(by_ref)),
        "statuses": {k: v for k, v in done.items() if k != "ids"},
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.proactive.notify")
    p.add_argument("--customers", type=int, default=10_000)
    p.add_argument("--kills", type=int, default=2)
    p.add_argument("--lease", type=float, default=3.0, help="seconds before a dead sender's notices are in doubt")
    a = p.parse_args()
    r = asyncio.run(bench(a.customers, a.kills, a.lease))
    head = ("notices", "kills", "seconds", "notices/s", "duplicates", "lost")
    print("\n" + " ".join(f"{h:>10}" for h in head) + "  by channel")
    cells = (r["notices"], r["kills"], r["seconds"], r["notices_per_second"], r["duplicates"], r["lost"])
    print(" ".join(f"{c:>10}" for c in cells) + f"  {r['by_channel']}")
    write_results(RESULTS, command_line(), r)
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

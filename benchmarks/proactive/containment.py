"""Contacts from an affected area answered without an agent, before vs after the announcement (issue 18).

    python -m benchmarks.proactive.containment [--per-phase 20]

The whole product on its own free ports and scratch var directory (scripts.stack.Stack, seeded back end), with
the voice gateway in this process (voice.testing.fake_twilio: signed Twilio webhooks and media stream, the
caller's words injected at the ASR boundary, a silent TTS) and the chats on Rasa's REST channel as the web chat
sends them (anonymous until an address is typed). An area no outage or incident ever touched is picked; its real
seeded customers contact the bot, half by phone from their registered number, half by chat:

1. BEFORE: N customers, with the analytics process's surge detector held back (P95598_SURGE_MIN_COUNT very
   high; the feed records the contacts as usual), so no incident exists while they talk.
2. The analytics process is restarted with the product's surge rule; its detector, on those real contacts of the
   last 5 minutes, opens the 疑似停电 incident (the storm is the BEFORE phase itself).
3. AFTER: N other customers of the area, the same way.

Every customer follows one policy (`next_line`): a colloquial outage report, then answers what the bot asks
(address, phone, 没有 to danger, 对 to the read-back); told that an outage is being handled: 好的 知道了 谢谢 and
done; misunderstood twice: 转人工. Per phase, once the analytics feed has caught up: the share answered without
an agent (no escalation, neither in the contact nor in the escalations table), repair orders filed, median
customer turns, the share told about the outage first (contacts.told_outage), outcomes (the stack's idle limit
P95598_CONTACT_IDLE_MINUTES is 1, so a contact is settled within the run instead of after 30 minutes).
Writes benchmarks/proactive/containment_results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis import SqlCIS
from backend.db import make_engine, make_sessionmaker
from backend.models_analytics import Contact, ContactOutcome
from backend.models_incidents import Incident
from benchmarks.common import command_line, table, write_results
from scripts.stack import Stack, ensure_model
from tests.conftest import Conversation
from tests.test_proactive_storm import Quiet, customers_of, quiet_areas, wait_for
from voice.playback import Voice
from voice.testing.fake_twilio import Harness, open_gateway

RESULTS = Path(__file__).with_name("containment_results.json")
OPENINGS = (  # how customers first report it, said or typed
    "喂 我家停电了",
    "家里突然没电了 怎么回事",
    "你好 我们这边整栋楼都停电了",
    "灯全灭了 是不是停电了啊",
    "刚才啪的一声就没电了",
    "我们小区黑了一片 什么时候来电",
    "家里跳闸了 邻居家也没电",
    "停电了 麻烦帮我看一下",
    "喂喂 我这里没电了",
    "冰箱空调都停了 是停电了吧",
)
THANKS, AGENT, NO, YES = "好的 知道了 谢谢", "转人工", "没有", "对"
TOLD = re.compile("疑似发生停电|暂不需要重复报修|暂时不需要重复报修|抢修人员正在处理")  # not 没有查到…安排抢修…吗
FILED = re.compile("工单号")
FAILED = re.compile("没太听明白|没太看明白|没听清|换个说法")
HANDED = re.compile("人工|坐席|排队|前面还有")
HOLD_BACK = {"P95598_SURGE_MIN_COUNT": "1000000"}  # the detector passes, no window ever reaches it
MAX_TURNS = 10


@dataclass
class Customer:
    account: str
    name: str
    phone: str
    address: str
    opening: str


@dataclass
class State:
    said: list[str] = field(default_factory=list)  # the customer's lines
    heard: list[str] = field(default_factory=list)  # the bot's answer to each (the greeting first on the phone)
    misses: int = 0
    told: bool = False
    done: bool = False


def next_line(c: Customer, reply: str, st: State) -> str | None:
    """The one customer behaviour: what to say to the bot's `reply`, None to leave."""
    st.heard.append(reply)
    if st.done or len(st.said) >= MAX_TURNS or (st.said and st.said[-1] == AGENT):
        return None
    if TOLD.search(reply) and not st.told:
        st.told = st.done = True  # told the outage is being handled: thanks, and that is all
        return THANKS
    if FILED.search(reply) or reply.rstrip("。！! ").endswith("再见"):
        return None
    if not st.said:  # the phone's greeting and menu, or a chat's empty page: the customer's own words
        return c.opening
    if FAILED.search(reply) or (len(st.heard) > 1 and reply == st.heard[-2]):
        st.misses += 1
    elif "对吗" in reply or "对不对" in reply or ("报修" in reply and "吗" in reply):  # read-back, repair offer
        return YES
    elif "危险" in reply or "冒烟" in reply:
        return NO
    elif "后四位" in reply:
        return c.phone[-4:]
    elif "电话" in reply or "手机" in reply:
        return c.phone
    elif "地址" in reply or "户号" in reply:
        return c.address
    else:
        st.misses += 1
    return AGENT if st.misses >= 2 else c.opening


@dataclass
class Result:
    customer: Customer
    channel: str
    conversation: str
    state: State
    seconds: float


async def phone(h: Harness, c: Customer) -> Result:
    """One call from the customer's registered number through the real gateway, driven by `next_line`."""
    sid = "CA" + uuid.uuid4().hex
    st, began = State(), time.perf_counter()
    async with h.dial(f"+86{c.phone}", sid) as tw:
        await tw.wait_for(lambda: bool(tw.events("media")), 60)
        record = h.session(sid).record
        recognizer = h.recognizers[-1]  # calls are placed one after another
        await tw.wait_marks(1, 60)
        heard = 0
        while not tw.closed.is_set():
            said = record.said()
            line = next_line(c, " ".join(said[heard:]), st)
            heard = len(said)
            if line is None:
                break
            st.said.append(line)
            n = len(st.said)
            recognizer.inject(line)
            await tw.wait_for(
                lambda n=n: (
                    tw.closed.is_set() or (len(record.turns) >= n and record.turns[n - 1].first_audio_ms is not None)
                ),
                120,
            )
            if not tw.closed.is_set():
                await tw.wait_for(lambda n=n: tw.closed.is_set() or len(tw.events("mark")) >= n + 1, 60)
        if len(record.said()) > heard:
            st.heard.append(" ".join(record.said()[heard:]))
    return Result(c, "voice", record.sender or f"voice:{c.phone}", st, time.perf_counter() - began)


def chat(rasa_url: str, c: Customer) -> Result:
    """One web chat (anonymous until the address is typed), driven by `next_line`."""
    conv, st, began = Conversation(rasa_url), State(), time.perf_counter()
    line = next_line(c, "", st)
    while line is not None:
        st.said.append(line)
        line = next_line(c, conv.say(line), st)
    return Result(c, "chat", conv.sender, st, time.perf_counter() - began)


def phase(stack: Stack, cis: SqlCIS, customers: list[Customer]) -> list[Result]:
    """Calls (every other customer) one after another through the gateway while the chats go on beside them."""
    callers, chatters = customers[0::2], customers[1::2]
    chats: list[Result] = []
    thread = threading.Thread(target=lambda: chats.extend(chat(stack.rasa_url, c) for c in chatters))
    thread.start()

    async def calls() -> list[Result]:
        async with open_gateway(cis, stack.rasa_url, Voice(Quiet())) as h:
            return [await phone(h, c) for c in callers]

    calls_done = asyncio.run(asyncio.wait_for(calls(), 900))
    thread.join(900)
    return calls_done + chats


def fed(db: sessionmaker[Session], results: list[Result], last_turns: bool) -> bool:
    """Each conversation has its contact (`last_turns`: with as many customer turns as the customer said)."""
    with db() as s:
        turns = dict(
            s.execute(
                select(Contact.conversation_id, Contact.turns).where(
                    Contact.conversation_id.in_([r.conversation for r in results])
                )
            )
            .tuples()
            .all()
        )
    return all(
        r.conversation in turns and (not last_turns or turns[r.conversation] >= len(r.state.said)) for r in results
    )


def settled_outcomes(db: sessionmaker[Session], results: list[Result]) -> bool:
    with db() as s:
        outcomes = s.scalars(
            select(Contact.outcome).where(Contact.conversation_id.in_([r.conversation for r in results]))
        ).all()
    return bool(outcomes) and ContactOutcome.IN_PROGRESS not in outcomes


def measure(db: sessionmaker[Session], results: list[Result], label: str) -> dict[str, Any]:
    wait_for(f"the {label} contacts fed", lambda: fed(db, results, False), 180)
    try:
        wait_for(f"the {label} contacts' last turns", lambda: fed(db, results, True), 60)
    except AssertionError as e:
        print(f"  ({e}: counted as they are)", flush=True)
    try:  # idle 1 minute: contained (or agent / abandoned) at the next refresh, every 15 s
        wait_for(f"the {label} outcomes", lambda: settled_outcomes(db, results), 150)
    except AssertionError as e:
        print(f"  ({e}: counted as they are)", flush=True)
    conversations = [r.conversation for r in results]
    with db() as s:
        contacts = {
            c.conversation_id: c for c in s.scalars(select(Contact).where(Contact.conversation_id.in_(conversations)))
        }
        escalated = set(
            s.scalars(select(m.Escalation.conversation_id).where(m.Escalation.conversation_id.in_(conversations)))
        )
        orders = Counter(
            s.scalars(select(m.WorkOrder.conversation_id).where(m.WorkOrder.conversation_id.in_(conversations)))
        )
        s.expunge_all()
    rows = []
    for r in results:
        c = contacts[r.conversation]
        rows.append(
            {
                "channel": r.channel,
                "account": r.customer.account,
                "area": c.area_code,
                "turns": len(r.state.said),
                "agent": r.conversation in escalated or c.escalated,
                "orders": orders[r.conversation],
                "told": c.told_outage,
                "outcome": c.outcome,
                "seconds": round(r.seconds, 1),
                "said": r.state.said,
                "heard": r.state.heard,
            }
        )

    def summary(part: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(part)
        return {
            "contacts": n,
            "without_agent": round(sum(not x["agent"] for x in part) / n, 3),
            "repair_orders": sum(x["orders"] for x in part),
            "median_turns": median(x["turns"] for x in part),
            "told_first": round(sum(x["told"] for x in part) / n, 3),
            "outcomes": dict(Counter(x["outcome"] for x in part)),
        }

    return {
        **summary(rows),
        "by_channel": {ch: summary([x for x in rows if x["channel"] == ch]) for ch in ("voice", "chat")},
        "contacts_detail": rows,
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.proactive.containment")
    p.add_argument("--per-phase", type=int, default=20, help="customers before and after (half call, half chat)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="containment-") as var:
        stack = Stack.on_free_ports(
            Path(var),  # outcomes settle within the run, not after 30 (chats) or 3 (calls) quiet minutes
            extra_env={"P95598_CONTACT_IDLE_MINUTES": "1", "P95598_CALL_IDLE_MINUTES": "1"},
        )
        try:
            stack.start(ensure_model())
            stack.kill("analytics")  # the same feed, its detector held back until the BEFORE phase is over
            stack.restart("analytics", env=HOLD_BACK)
            stack.wait_ready()
            os.environ["P95598_RASA_TOKEN"] = stack.rasa_token  # the in-process gateway is a client of the stack
            run(stack, a.per_phase)
        except Exception:
            for log in sorted(Path(var).glob("*.log")):
                print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
            raise
        finally:
            stack.stop()


def run(stack: Stack, per_phase: int) -> None:
    db = make_sessionmaker(make_engine(f"sqlite:///{stack.var / 'backend.db'}"))
    cis = SqlCIS(db)
    area = quiet_areas(db)[0]
    people = customers_of(db, area)
    if len(people) < 2 * per_phase:
        raise SystemExit(f"area {area} has {len(people)} customers, fewer than {2 * per_phase}")
    customers = [
        Customer(c.account_no, c.name, c.phone, c.address, OPENINGS[i % len(OPENINGS)])
        for i, c in enumerate(people[: 2 * per_phase])
    ]
    print(f"area {area}: {len(people)} customers; BEFORE: {per_phase} contacts (no incident)", flush=True)
    began = time.perf_counter()
    before = phase(stack, cis, customers[:per_phase])
    before_s = time.perf_counter() - began

    def incident() -> Incident | None:
        with db() as s:
            return next((i for i in s.scalars(select(Incident)) if area in (i.area_codes or [])), None)

    assert incident() is None, "an incident opened during the BEFORE phase"
    stack.kill("analytics")
    stack.restart("analytics", env={})  # the product's surge rule, on the contacts of the last 5 minutes
    t0 = time.perf_counter()
    opened = wait_for("the surge detector's incident", incident, 180)
    detect_s = time.perf_counter() - t0
    print(
        f"incident {opened.id} opened {detect_s:.0f} s after the detector came back; AFTER: {per_phase} contacts",
        flush=True,
    )
    began = time.perf_counter()
    after = phase(stack, cis, customers[per_phase:])
    after_s = time.perf_counter() - began
    phases = {"before": measure(db, before, "BEFORE"), "after": measure(db, after, "AFTER")}
    header = ("phase", "contacts", "without agent", "repair orders", "median turns", "told first", "outcomes")
    rows = []
    for name, r in phases.items():
        for label, x in [(name, r), *((f"  {name} {ch}", y) for ch, y in r["by_channel"].items())]:
            outcomes = " ".join(f"{k}={v}" for k, v in sorted(x["outcomes"].items()))
            rows.append(
                (label, x["contacts"], f"{x['without_agent']:.0%}", x["repair_orders"], x["median_turns"],
                 f"{x['told_first']:.0%}", outcomes)
            )  # fmt: skip
    print(table(rows, header))
    write_results(
        RESULTS,
        command_line(),
        {
            "setup": {
                "area": area,
                "per_phase": per_phase,
                "channels": "half simulated Twilio calls from the registered number, half web chat (Rasa REST)",
                "incident": opened.id,
                "incident_opened_seconds_after_detector_back": round(detect_s, 1),
                "phase_seconds": {"before": round(before_s, 1), "after": round(after_s, 1)},
                "openings": list(OPENINGS),
            },
            **phases,
        },
    )


if __name__ == "__main__":
    main()

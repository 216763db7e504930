"""Dialogue benchmark: whole conversations against the running product, judged by the database afterwards.

    make bench-dialogue                                   (starts its own stack on a scratch database)
    python -m benchmarks.dialogue.run --url http://127.0.0.1:5005 --db-url sqlite:///var/backend.db

Conversations (`conversations/*.yml`) were written apart from the dialogue code, by writers who saw only the
catalog, the demo customers and the product's promises (`writer_kit/`). Each one is played turn by turn
over Rasa's REST channel with the metadata the chat hub and the voice gateway send (voice: transcripts
injected at the ASR boundary). When the bot reads back a request and asks to confirm and the script says
nothing more, the customer says "对" at the end; when the script has run out and a form still asks for
something, the customer answers from the conversation's `facts`. A scripted line that arrives while the
bot reads back is sent as it is: it is the customer's answer to the read-back. Then exactly the expected work
orders must exist for that conversation (function, status, priority, fields), and the replies must include /
exclude the given strings. Writes benchmarks/dialogue/results.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests
import yaml

from benchmarks.common import command_line, rasa_auth, running_stack, table, write_results

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
CONFIRM_SLOT = "order_confirmed"
FACT_FOR_SLOT = {
    "account_no": "account_no",
    "phone_last4": "last4",
    "contact_phone": "phone",
    "address": "address",
    "new_phone": "new_phone",
    "holder_name": "name",
}
MAX_EXTRA_TURNS = 5


def conversations(folder: str = "conversations") -> list[dict]:
    items = []
    for path in sorted((HERE / folder).glob("*.yml")):
        items += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return items


class Player:
    """Plays one scripted customer against the REST channel."""

    def __init__(self, url: str, conv: dict, run_id: str):
        self.url, self.conv = url, conv
        self.sender = f"bench-{run_id}-{conv['id']}"
        self.metadata = {"channel": conv.get("channel", "chat")}
        if conv.get("caller"):
            self.metadata["caller"] = str(conv["caller"])
        self.replies: list[str] = []
        self.sent: list[str] = []
        self.log: list[tuple[str, list[str]]] = []
        self.http = requests.Session()

    def say(self, text: str) -> None:
        r = self.http.post(
            f"{self.url}/webhooks/rest/webhook",
            timeout=60,
            json={"sender": self.sender, "message": text, "metadata": self.metadata},
        )
        r.raise_for_status()
        self.sent.append(text)
        said = [m.get("text") or "" for m in r.json()]
        self.replies += said
        self.log.append((text, said))

    def waiting_for(self) -> str | None:
        tracker = self.http.get(
            f"{self.url}/conversations/{self.sender}/tracker", params=rasa_auth(), timeout=30
        ).json()
        if not (tracker.get("active_loop") or {}).get("name"):
            return None
        return (tracker.get("slots") or {}).get("requested_slot")

    def play(self) -> None:
        """The script as written (a line said while the bot reads back is the customer's answer to it, as on a
        real call); then whatever the bot still waits for, from the facts."""
        for turn in self.conv["turns"]:
            self.say(str(turn["confirm"]) if isinstance(turn, dict) and "confirm" in turn else str(turn))
        facts = {k: str(v) for k, v in (self.conv.get("facts") or {}).items()}
        for _ in range(MAX_EXTRA_TURNS):
            slot = self.waiting_for()
            answer = "对" if slot == CONFIRM_SLOT else facts.get(FACT_FOR_SLOT.get(slot or "", ""))
            if not answer:
                break
            self.say(answer)


def haystack(order: dict, key: str) -> str:
    details = order["details"] or {}
    if key == "district":
        return " ".join(str(details.get(k) or "") for k in ("address", "area", "district"))
    if key == "details":
        return " ".join(str(v) for v in details.values() if isinstance(v, str))
    if key == "account_no":
        return f"{order['account_no'] or ''} {details.get('account_no') or ''}"
    return str(details.get(key) or "")


def matches(order: dict, want: dict) -> bool:
    """`status: accepted` (the default) means filed and in force, whatever its processing status
    (accepted, awaiting payment, resolved…); `withdrawn` means taken back."""
    functions = want["function"] if isinstance(want["function"], list) else [want["function"]]
    withdrawn = order["status"] in ("withdrawn", "cancelled")
    return (
        order["function_id"] in functions
        and withdrawn == (want.get("status", "accepted") == "withdrawn")
        and order["priority"] == want.get("priority", "normal")
        and all(str(v) in haystack(order, k) for k, v in (want.get("fields") or {}).items())
    )


def judge(conv: dict, orders: list[dict], replies: list[str]) -> dict:
    expected = list((conv.get("expect") or {}).get("orders") or [])
    unmatched = list(orders)
    missing = []
    for want in expected:
        hit = next((o for o in unmatched if matches(o, want)), None)
        if hit is None:
            missing.append(want)
        else:
            unmatched.remove(hit)
    wanted_functions = {
        f for w in expected for f in (w["function"] if isinstance(w["function"], list) else [w["function"]])
    }
    duplicates = [o for o in unmatched if o["function_id"] in wanted_functions]
    wrong = [o for o in unmatched if o not in duplicates]
    text = "\n".join(replies)
    expect = conv.get("expect") or {}
    lacking = [s for s in expect.get("replies_include") or [] if s not in text]
    forbidden = [s for s in expect.get("replies_exclude") or [] if s in text]
    ok = not (missing or duplicates or wrong or lacking or forbidden)
    return {
        "ok": ok,
        "missing": missing,
        "duplicates": len(duplicates),
        "wrong": len(wrong),
        "extra_orders": [f"{o['function_id']}/{o['status']}/{o['priority']}" for o in unmatched],
        "lacking": lacking,
        "forbidden": forbidden,
    }


class DemoAccounts:
    """Conversations change accounts (a new registered phone, time-of-use on or off): each conversation
    starts from the accounts as they were before the run, as its writer assumed."""

    def __init__(self, db_url: str):
        from backend import models as m
        from backend.db import make_engine, make_sessionmaker
        from backend.synthetic import DEMO_CUSTOMERS

        self.m, self.sessions = m, make_sessionmaker(make_engine(db_url))
        with self.sessions() as s:
            self.saved = {
                c.account_no: (c.phone, c.tou_enabled)
                for c in (s.get(m.Customer, d[0]) for d in DEMO_CUSTOMERS)
                if c is not None
            }

    def restore(self) -> None:
        """Also forgets wrong identity answers: 140 customers sharing four accounts within minutes would
        otherwise lock them for each other (the per-account limit is meant for one account's real life)."""
        from sqlalchemy import delete

        with self.sessions.begin() as s:
            for account, (phone, tou) in self.saved.items():
                c = s.get(self.m.Customer, account)
                c.phone, c.tou_enabled = phone, tou
            s.execute(delete(self.m.VerificationFailure))


def orders_of(db_url: str | None, sender: str) -> list[dict]:
    from sqlalchemy import select

    from backend import models as m
    from backend.db import make_engine, make_sessionmaker

    sessions = make_sessionmaker(make_engine(db_url))
    with sessions() as s:
        rows = s.scalars(select(m.WorkOrder).where(m.WorkOrder.conversation_id == sender)).all()
        return [
            {
                "function_id": o.function_id,
                "status": o.status,
                "priority": o.priority,
                "details": o.details,
                "account_no": o.account_no,
                "number": o.number,
            }
            for o in rows
        ]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.dialogue.run")
    p.add_argument("--url", default=None, help="a running Rasa server (default: start one on a scratch database)")
    p.add_argument("--db-url", default=None, help="its back-end database (with --url)")
    p.add_argument("--only", default=None, help="comma-separated conversation ids")
    p.add_argument("--show", action="store_true", help="print every failed conversation")
    p.add_argument(
        "--set",
        default="conversations",
        choices=["conversations", "unseen"],
        help="conversations (the benchmark) or unseen (a second set, written later, never used for development)",
    )
    a = p.parse_args()
    convs = conversations(a.set)
    if a.only:
        convs = [c for c in convs if c["id"] in a.only.split(",")]
    run_id = uuid.uuid4().hex[:6]
    results, t0 = [], time.time()
    scratch = tempfile.TemporaryDirectory()
    db_url = a.db_url or (os.environ.get("P95598_DB_URL") if a.url else f"sqlite:///{scratch.name}/backend.db")
    with scratch, running_stack(a.url, db_url) as url:
        accounts = DemoAccounts(db_url)
        for conv in convs:
            accounts.restore()
            player = Player(url, conv, run_id)
            player.play()
            verdict = judge(conv, orders_of(db_url, player.sender), player.replies)
            results.append(
                {
                    "id": conv["id"],
                    "channel": conv.get("channel", "chat"),
                    "classes": conv.get("classes", []),
                    "turns": len(player.sent),
                    **verdict,
                }
            )
            if a.show and not verdict["ok"]:
                print(
                    f"--- {conv['id']} {conv.get('classes')}: missing {verdict['missing']}"
                    f" extra {verdict['extra_orders']} lacking {verdict['lacking']} forbidden {verdict['forbidden']}"
                )
                for said, answers in player.log:
                    print("   客户:", said)
                    print("     bot:", " | ".join(a for a in answers if a)[:300])
    report(results, time.time() - t0, bool(a.only), OUT if a.set == "conversations" else HERE / "results_unseen.json")


def report(results: list[dict], seconds: float, partial: bool, out: Path = OUT) -> None:
    n = len(results)
    ok = sum(r["ok"] for r in results)
    by_class: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        for c in r["classes"]:
            by_class[c].append(r["ok"])
    by_channel: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_channel[r["channel"]].append(r["ok"])
    summary = {
        "conversations": n,
        "task_success": round(ok / n, 4) if n else 0.0,
        "wrong_orders": sum(r["wrong"] for r in results),
        "duplicate_orders": sum(r["duplicates"] for r in results),
        "missing_orders": sum(len(r["missing"]) for r in results),
        "turns_per_task": round(sum(r["turns"] for r in results) / n, 2) if n else 0.0,
        "by_channel": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_channel.items())},
        "by_class": {k: {"n": len(v), "success": round(sum(v) / len(v), 4)} for k, v in sorted(by_class.items())},
        "seconds": round(seconds, 1),
    }
    print(
        table(
            [
                ("task success", f"{ok}/{n} = {summary['task_success']:.1%}"),
                ("wrong orders", summary["wrong_orders"]),
                ("duplicate orders", summary["duplicate_orders"]),
                ("missing orders", summary["missing_orders"]),
                ("customer turns per task", summary["turns_per_task"]),
            ]
            + [(f"channel {k}", f"{v:.1%}") for k, v in summary["by_channel"].items()],
            ("dialogue benchmark", "value"),
        )
    )
    print(
        table(
            [(k, v["n"], f"{v['success']:.1%}") for k, v in summary["by_class"].items()],
            ("failure class", "n", "success"),
        )
    )
    if not partial:
        write_results(out, command_line(), {**summary, "failures": [r for r in results if not r["ok"]]})
        print(f"results -> {out}")


if __name__ == "__main__":
    main()

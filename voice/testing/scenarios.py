"""The calls `python -m voice.testing.simulate` can place: what the caller wants, how they answer the bot's
questions (by speech, or by keys where a key answer exists), and how the back end confirms the outcome."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from channels.phone import national_number
from voice.dtmf import last_sentence

ACCOUNT, LAST4 = "3201000001", "0001"  # 王建国 in the seeded back end (backend/synthetic.py)
ADDRESS = "城东区和平路12号3单元501室"


@dataclass(frozen=True)
class Step:
    words: tuple[str, ...]  # any of them in the bot's last sentence: this step answers it
    say: str  # what the caller says
    keys: str | None = None  # or presses (with --keys); "{month}" / "{phone}" are filled in


@dataclass(frozen=True)
class Scenario:
    title: str
    caller: str  # default caller ID
    opening: Step  # said after the greeting (unless the greeting asked something known)
    steps: tuple[Step, ...]
    done: re.Pattern  # the bot's answer that ends the call
    check: Callable[[re.Match, object], tuple[str, bool]]  # (match, CIS) -> (verdict, ok)


def answer_for(
    scenario: Scenario, bot_text: str, opened: bool, *, keys: bool, caller: str | None, month: int
) -> Step | None:
    """The caller's answer to what the bot just said, with its placeholders filled in; None: no answer."""
    question = last_sentence(bot_text)
    step = next((s for s in scenario.steps if any(w in question for w in s.words)), None)
    if step is None:
        step = None if opened else scenario.opening
    if step is None:
        return None
    phone = national_number(caller or "") or "13912340001"
    fill = lambda text: text.format(month=month, phone=phone) if text else text
    return Step(step.words, fill(step.say), fill(step.keys) if keys else None)


def _order_check(match: re.Match, cis) -> tuple[str, bool]:
    number = "G" + match.group(1)
    order = cis.get_work_order(number)
    if order is None:
        return f"the bot read back work order {number}, but the back end has no such order", False
    where = order.details.get("address", "")
    return (
        f"work order {number} is in the back end: {order.function_id}, channel {order.channel}, "
        f"{where}, contact {order.details.get('contact_phone', '-')}"
    ), True


def _bill_check(match: re.Match, cis) -> tuple[str, bool]:
    month, amount = f"{int(match.group(1)):04d}-{int(match.group(2)):02d}", float(match.group(3))
    bill = cis.get_bill(ACCOUNT, month)
    if bill is None:
        return f"the bot read {amount:.2f}元 for {month}, but the back end has no bill for that month", False
    ok = abs(bill.amount - amount) < 0.005
    return (
        f"the bot read {amount:.2f}元 for {ACCOUNT} {month}; the back end's bill is {bill.amount:.2f}元"
        + ("" if ok else " — MISMATCH")
    ), ok


SCENARIOS = {
    "outage": Scenario(
        "power cut reported by voice",
        "+8613912340001",
        opening=Step((), "我家停电了", "1"),
        steps=(
            Step(("地址", "在哪"), ADDRESS),
            Step(("危险",), "没有"),
            Step(("什么情况",), "全屋都没电了"),
            Step(("联系电话", "电话号码", "手机号"), "{phone}", "{phone}#"),
            Step(("对吗", "对不对", "确认"), "对的"),
        ),
        done=re.compile(r"G ?(\d{11})"),
        check=_order_check,
    ),
    "bill": Scenario(
        "bill query",
        "+8613800138000",
        opening=Step((), "我要查电费", "2"),
        steps=(
            Step(("后四位",), LAST4, LAST4 + "#"),
            Step(("户号",), ACCOUNT, ACCOUNT + "#"),
            Step(("按键输入月份", "哪个月"), "{month}月", "{month}#"),
        ),
        done=re.compile(r"(\d{4})年(\d{1,2})月的电费是(\d+\.\d{2})元"),
        check=_bill_check,
    ),
}

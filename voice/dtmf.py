"""Keys pressed on the phone, turned into text the bot understands.

Two modes, chosen from the bot's last question:
- menu (no number asked for): 1 报修, 2 电费, 3 停电查询, 0 人工 — each key is a whole request at once;
- digits (the bot asked for 户号, a phone number, its last four digits or a work-order number, or invited
  a month by keys): keys are collected until the expected length, `#`, or an inter-digit pause (the
  caller decides with `#`; `*` starts over). The collected digits go to the bot as plain text, exactly as
  if they had been spoken ("10" for a month goes as "10月"; `#` alone there asks for the latest bill).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MENU = {  # key -> (service function, what the caller would have said)
    "1": ("fault_repair", "我要报修"),
    "2": ("bill_query", "我要查电费"),
    "3": ("outage_query", "查一下停电信息"),
    "0": ("human_agent", "转人工"),
}


@dataclass(frozen=True)
class DigitMode:
    name: str
    length: int  # submitted as soon as this many digits are in
    words: tuple[str, ...]
    unit: str = ""  # said after the number, 1..`top` ("10" -> "10月"); other numbers go as typed
    top: int = 0
    on_hash: str | None = None  # what `#` alone (no digit typed for this question) means


MONTH_KEYS = "也可以用按键输入月份，按井号键结束；直接按井号键，就是查最近一期。"  # said after 哪个月
MONTH = DigitMode("month", 2, ("按键输入月份",), unit="月", top=12, on_hash="最近一期")


LAST4 = DigitMode("phone_last4", 4, ("后四位",))
NUMBERS = (  # "手机号的后四位" is a last-4 question, checked before these
    DigitMode("account_no", 10, ("户号",)),
    DigitMode("order_no", 11, ("工单号",)),
    DigitMode("phone", 11, ("联系电话", "电话号码", "手机号")),
)


def last_sentence(text: str) -> str:
    parts = [p for p in re.split(r"[。？！?!\n]", text) if p.strip()]
    return parts[-1] if parts else ""


def mode_for_prompt(bot_text: str) -> DigitMode | None:
    """The number the last sentence of the bot's message asks for, if any.

    Only the last sentence counts: "工单号是G…。请保持电话畅通。" tells a number, it asks for none.
    When it asks for one of two numbers ("工单号，或者户号") the longer length wins and `#` ends the shorter.
    """
    question = last_sentence(bot_text)
    if any(w in question for w in LAST4.words):
        return LAST4
    if any(w in question for w in MONTH.words):
        return MONTH
    found = [m for m in NUMBERS if any(w in question for w in m.words)]
    if len(found) > 1:
        return DigitMode("/".join(m.name for m in found), max(m.length for m in found), ())
    return found[0] if found else None


@dataclass(frozen=True)
class KeyResult:
    text: str | None = None  # send this to the bot now
    pending: bool = False  # digits collected, waiting for more (start the inter-digit timer)
    unknown: bool = False  # a key that means nothing here (say the menu again)


class Keypad:
    """The caller's key presses during one call."""

    def __init__(self) -> None:
        self.mode: DigitMode | None = None
        self.digits = ""
        self._answered = False  # something was sent for the current question
        self._complete = False  # the last key completed an entry by its length

    def expect(self, bot_text: str) -> None:
        """Called with every message the bot says: its last one decides what keys mean next."""
        self.mode = mode_for_prompt(bot_text)
        self.digits = ""
        self._answered = False

    def spoke(self) -> None:
        """The caller said something: keys half-typed before it are dropped."""
        self.digits = ""

    def press(self, key: str) -> KeyResult:
        if key == "#" and self._complete:  # ends an entry already sent (maybe after the next question came)
            self._complete = False
            return KeyResult()
        self._complete = False
        if self.mode is None:
            if key in MENU:
                return KeyResult(text=MENU[key][1])
            return KeyResult(unknown=True)
        if key == "*":
            self.digits = ""
            return KeyResult(pending=True)
        if key == "#":
            if self.digits:
                return KeyResult(text=self.flush())
            if self.mode.on_hash and not self._answered:  # not the # after a number already sent
                self._answered = True
                return KeyResult(text=self.mode.on_hash)
            return KeyResult(unknown=True)
        self.digits += key
        if len(self.digits) >= self.mode.length:
            self._complete = True
            return KeyResult(text=self.flush())
        return KeyResult(pending=True)

    def flush(self) -> str | None:
        """The digits typed so far (on `#` or after the inter-digit pause), or None."""
        digits, self.digits = self.digits, ""
        if not digits:
            return None
        self._answered = True
        if self.mode and self.mode.unit and 1 <= int(digits) <= self.mode.top:
            return f"{int(digits)}{self.mode.unit}"
        return digits

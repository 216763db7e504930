"""Checks on what was said: greeting, closing, disclosure before verification, impolite words, complaints without
an apology, hazards without urgent handling (promised call-backs are in checks_promises.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nlu.escalation import HAZARD
from nlu.negation import negated_at
from quality.checks import (
    SERVERS,
    ContactView,
    Hit,
    agent_joined_at,
    events,
    evidence,
    order_key,
    spans_of,
    with_digits,
)
from quality.contact import InspectedContact

DIGITS = re.compile(r"\d+")
CLAUSE_END = re.compile(r"[，,。！？!?；;\n]")
SENTENCE_END = re.compile(r"[。！？!?；;\n]")
# An offer, a question or a condition ("需要给您回电吗？", "请问您的地址是？", "如果欠费超过100元…") promises and
# discloses nothing.
NOT_A_STATEMENT = re.compile(r"[？?]|吗|请问|多少|哪里|哪个|什么|如需|如果|需要的话")


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pieces of a turn, each with its closing punctuation."""
    pieces, start = [], 0
    for m in SENTENCE_END.finditer(text):
        pieces.append((start, text[start : m.end()]))
        start = m.end()
    if start < len(text):
        pieces.append((start, text[start:]))
    return pieces


def statement_spans(pattern: re.Pattern[str], text: str, skip: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """Spans of `pattern` in the sentences of `text` that are not questions nor contain a word of `skip`."""
    found: list[tuple[int, int]] = []
    for offset, sentence in sentences(text):
        if NOT_A_STATEMENT.search(sentence) or any(word in sentence for word in skip):
            continue
        found.extend((offset + a, offset + b) for a, b in spans_of(pattern, sentence))
    return found


def _server_turns(contact: InspectedContact) -> list[int]:
    found = [i for i, t in enumerate(contact.turns) if t.who in SERVERS and t.text.strip()]
    return sorted(found, key=lambda i: order_key(contact, i))


def greeted_turn(contact: InspectedContact) -> int | None:
    """The server's first turn: the agent's first after agent_joined when an agent answered, else the bot's."""
    joined = agent_joined_at(contact)
    servers = _server_turns(contact)
    agents = [i for i in servers if contact.turns[i].who == "agent" and joined and order_key(contact, i) >= joined]
    if agents:
        return agents[0]
    bots = [i for i in servers if contact.turns[i].who == "bot"]
    return bots[0] if bots else (servers[0] if servers else None)


def first_server_turn_has(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    target = greeted_turn(view.contact)
    if (
        target is not None
        and view.contact.turns[target].who == "bot"
        and view.contact.channel in params["bot_greets_elsewhere"]
    ):
        return None  # the channel greets for the bot at another moment (WeChat: on subscribing)
    if target is None or not view.holds(target) or params["patterns"].search(view.contact.turns[target].text):
        return None
    return Hit("", [evidence(view.contact, target)])


def closing_phrase(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    contact = view.contact
    if not view.is_last or contact.facts.outcome == "abandoned":
        return None
    last = _server_turns(contact)[-int(params["last_turns"]) :]
    if not last or any(params["patterns"].search(contact.turns[i].text) for i in last):
        return None
    if params["asking"].search(contact.turns[last[-1]].text.rstrip()) and not any(
        t.who == "customer" for t in contact.turns[last[-1] + 1 :]
    ):
        return None  # the customer left while being asked something: the server had no turn to close in
    return Hit("", [evidence(contact, last[-1])])


def _numbers(text: str) -> list[str]:
    return DIGITS.findall(with_digits(text))


def _clause_from(text: str, start: int, end: int) -> str:
    """The span and the rest of its clause: a span like 交了 or 欠着 has its number just after it."""
    rest = CLAUSE_END.split(text[end:], maxsplit=1)[0]
    return text[start:end] + rest


def _told(span: str, heard: set[str], public: tuple[str, ...]) -> bool:
    """The numbers of `span` are the customer's own (read back) or a service number (95598): nothing disclosed."""
    numbers = _numbers(span)
    return bool(numbers) and all(n in heard or any(len(n) >= 3 and n in p for p in public) for n in numbers)


def disclosure_before_verified(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    contact = view.contact
    verified = events(contact, "verified")
    verified_key = order_key(contact, verified[0]) if verified else None
    public = tuple(params["public_numbers"])
    heard: set[str] = set()
    found = []
    for i, turn in sorted(enumerate(contact.turns), key=lambda it: order_key(contact, it[0])):
        if verified_key is not None and order_key(contact, i) > verified_key:
            break
        if turn.who == "customer":
            heard.update(_numbers(turn.text))
        elif turn.who == "bot" and turn.discloses and view.holds(i):
            found.append(evidence(contact, i, spans_of(params["account_data"], turn.text)))
        elif turn.who == "agent" and view.holds(i):
            spans = statement_spans(params["account_data"], turn.text, tuple(params["general_words"]))
            spans = [(a, b) for a, b in spans if not _told(_clause_from(turn.text, a, b), heard, public)]
            if spans:
                found.append(evidence(contact, i, spans))
    if not found:
        return None
    return Hit("尚未核实身份" if verified_key is None else "在核实身份之前", sorted(found, key=lambda e: e.turn))


def agent_says(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    found = []
    for i, turn in view.window():
        if turn.who == "agent":
            spans = spans_of(params["patterns"], turn.text)
            if spans:
                found.append(evidence(view.contact, i, spans))
    if not found:
        return None
    words = "、".join(dict.fromkeys(found[0].text[a:b] for a, b in found[0].spans))
    return Hit(f"“{words}”", found)


def asserted_spans(pattern: re.Pattern[str], text: str, *, word_may_negate: bool = True) -> list[tuple[int, int]]:
    """Spans of the matches a negator does not cover (nlu.negation's scope: the clause before the word, and
    the word itself when `word_may_negate`, so "线没断" is no hazard but "太不负责" stays a complaint)."""
    return [
        m.span()
        for m in pattern.finditer(text)
        if not negated_at(text, m.start(), m.end() if word_may_negate else None)
    ]


def complaint_apology(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    contact = view.contact
    if not view.is_last:
        return None
    said = [
        evidence(contact, i, spans)
        for i, t in enumerate(contact.turns)
        if t.who == "customer"
        and (spans := asserted_spans(params["complaint_patterns"], t.text, word_may_negate=False))
    ]
    if not (said or contact.facts.complaint):
        return None
    if any(t.who in SERVERS and params["apology_patterns"].search(t.text) for t in contact.turns):
        return None
    customers = contact.customer_turns
    shown = said or ([evidence(contact, customers[0][0])] if customers else [])
    return Hit("", shown)


def hazard_without_urgent(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    """The first asserted hazard must be followed by an urgent event; later mentions need no second one."""
    contact = view.contact
    reported = [
        evidence(contact, i, spans)
        for i, t in enumerate(contact.turns)
        if t.who == "customer" and (spans := asserted_spans(HAZARD, t.text))
    ]
    if not reported:
        return None
    first = min(order_key(contact, e.turn) for e in reported)
    if any(order_key(contact, i) >= first for i in events(contact, "urgent")):
        return None
    shown = [e for e in reported if view.holds(e.turn)]
    return Hit("", shown) if shown else None

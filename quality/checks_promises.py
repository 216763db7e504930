"""callback_kept: the server promised to call back or get back later, and facts.callbacks shows it was not done
in time. A promise is said in many ways ("稍后给您回电", "核实后联系您", "有结果第一时间通知您", "让师傅跟您联系");
an offer ("需要给您回电吗？") is one when the customer takes it, and so is the server's yes to a customer asking
to be called back. An instruction ("如需回电，请拨打95598") and the customer's own "我再打过来" are not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quality.checks import SERVERS, ContactView, Evidence, Hit, evidence, order_key, spans_of
from quality.checks_words import asserted_spans, sentences
from quality.contact import InspectedContact


def _reply(contact: InspectedContact, i: int, who: tuple[str, ...]) -> str | None:
    """The text of the first turn by `who` after turn i, if one follows before the contact ends."""
    later = sorted(
        (j for j, t in enumerate(contact.turns) if t.who in who and order_key(contact, j) > order_key(contact, i)),
        key=lambda j: order_key(contact, j),
    )
    return contact.turns[later[0]].text if later else None


def _taken(reply: str | None, params: Mapping[str, Any]) -> bool:
    return reply is not None and bool(params["accepted"].match(reply.strip())) and not params["declined"].search(reply)


def promises(contact: InspectedContact, i: int, params: Mapping[str, Any]) -> list[tuple[int, int]]:
    """Spans of turn i's promises: said as statements, or offered and then taken by the customer."""
    found: list[tuple[int, int]] = []
    offered: list[tuple[int, int]] = []
    for offset, sentence in sentences(contact.turns[i].text):
        if params["not_promises"].search(sentence):
            continue
        spans = [(offset + a, offset + b) for a, b in spans_of(params["patterns"], sentence)]
        (offered if params["offers"].search(sentence) else found).extend(spans)
    if offered and _taken(_reply(contact, i, ("customer",)), params):
        found.extend(offered)
    return sorted(found)


def agreed_to_call_back(contact: InspectedContact, i: int, params: Mapping[str, Any]) -> Evidence | None:
    """The server's yes (turn after customer turn i) to the customer asking to be called back."""
    if not asserted_spans(params["asked"], contact.turns[i].text):  # "不用回电话" asks for none
        return None
    servers = sorted(
        (j for j, t in enumerate(contact.turns) if t.who in SERVERS and order_key(contact, j) > order_key(contact, i)),
        key=lambda j: order_key(contact, j),
    )
    if servers and _taken(contact.turns[servers[0]].text, params):
        return evidence(contact, servers[0])
    return None


def promised_callback_kept(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    contact = view.contact
    promised: list[Evidence] = []
    for i, turn in view.window():
        if turn.who in SERVERS and (spans := promises(contact, i, params)):
            promised.append(evidence(contact, i, spans))
        elif turn.who == "customer" and (agreed := agreed_to_call_back(contact, i, params)):
            promised.append(agreed)
    if not promised:
        return None
    promised = sorted({e.turn: e for e in promised}.values(), key=lambda e: e.turn)
    callbacks = contact.facts.callbacks
    if not callbacks:
        return Hit("没有回电记录", promised)
    now = contact.inspected_at  # a call-back not done but not yet due either cannot be judged yet
    if any(c.done_at is None and (now is None or c.due_at <= now) for c in callbacks):
        return Hit("回电没有完成", promised)
    if any(c.done_at is not None and c.done_at > c.due_at for c in callbacks):
        return Hit("回电晚于约定时间", promised)
    return None

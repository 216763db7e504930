"""Satisfaction at the end of a contact: asking (after an agent's case, or a chat the customer ended), showing
the question (a rating card on the chat page, a text prompt on other channels) and taking the answer.

The question and the thanks are written into the stored conversation, so a reloaded chat page shows what it
showed live, and the agent's transcript shows that the customer was asked.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from backend.contact_centre import CaseStatus, Channel, EscalationInfo
from backend.contact_centre.kinds import CUSTOMER_ENDED
from backend.contact_centre.ratings import MAX_COMMENT, check_score
from channels.rasa import RasaUnavailable
from console.chat_view import now_iso
from console.hub import Hub

RATING_CARD = "请为本次服务打分"
RATING_PROMPT = "请您为本次服务打分：回复1到5的数字（5分最满意），也可以再说几句意见。"
THANKS = "感谢您的评价，我们会继续改进。"
CHAT_ENDED = "本次会话已结束"
AGENT_TOLD_ENDED = "客户结束了会话"

Item = dict[str, Any]
log = logging.getLogger(__name__)


async def _append(hub: Hub, conversation: str, text: str, shown_as: str, **meta: Any) -> str:
    """A notice written into the stored conversation (not run through the bot); its message id."""
    message_id = f"s-{secrets.token_hex(6)}"
    metadata = {"channel": Channel.CONSOLE, "system": True, "shown_as": shown_as, "message_id": message_id, **meta}
    try:
        await hub.rasa.append(conversation, [{"event": "bot", "text": text, "metadata": metadata}])
    except RasaUnavailable as e:  # shown live all the same; only a reload will not show it again
        log.warning("could not write %s into %s: %s", shown_as, conversation, e)
    return message_id


async def prompt(hub: Hub, conversation: str, key: str, channel: str) -> None:
    """Shows the question: a rating card on the chat page; the text prompt where the customer came from another
    channel (WeChat, app, voice: their gateways take the reply)."""
    message_id = await _append(hub, conversation, RATING_CARD, "rating", rating=key)
    await hub.to_customer(
        conversation, {"type": "rating", "key": key, "text": RATING_CARD, "id": message_id, "at": now_iso()}
    )
    if channel not in (Channel.CHAT, Channel.CONSOLE):
        await hub.deliver(conversation, RATING_PROMPT, "bot")


async def ask_after_case(hub: Hub, case: EscalationInfo) -> str:
    """An agent returned or closed the case: the customer rates that agent's service."""
    key = await asyncio.to_thread(
        hub.contact.ask,
        case.conversation_id,
        case.channel,
        case_id=case.id,
        agent_id=case.agent_id,
        account_no=case.account_no,
    )
    await prompt(hub, case.conversation_id, key, case.channel)
    return key


async def end_chat(hub: Hub, conversation: str) -> str:
    """The customer ended the chat: an open case is closed (its agent is told), the page shows the divider,
    then the rating card. Ending twice asks once."""
    contact = hub.contact
    pending = await asyncio.to_thread(contact.pending, conversation)
    case = await asyncio.to_thread(contact.open_case, conversation)
    if case is None and pending is not None:  # already ended and not rated yet: the same card again
        await hub.to_customer(conversation, {"type": "rating", "key": pending.contact_key, "text": RATING_CARD})
        return pending.contact_key
    if case is not None:
        if case.status == CaseStatus.WAITING:  # left before anyone answered: abandoned, for the supervisor's figures
            case = await asyncio.to_thread(contact.abandon, case.id, CUSTOMER_ENDED)
        else:
            case = await asyncio.to_thread(contact.finish, case.id, CaseStatus.CLOSED, CUSTOMER_ENDED)
        try:
            await hub.rasa.append(conversation, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
        except RasaUnavailable as e:
            log.warning("bot not resumed in %s: %s", conversation, e)
        await hub.to_case_agents(case, {"type": "customer", "case": case.id, "text": AGENT_TOLD_ENDED, "ended": True})
        await hub.broadcast({"type": "queue"})
    divider = await _append(hub, conversation, CHAT_ENDED, "divider")
    await hub.to_customer(
        conversation, {"type": "message", "who": "divider", "text": CHAT_ENDED, "id": divider, "at": now_iso()}
    )
    await hub.to_customer(conversation, {"type": "handoff", "state": "bot"})
    if case is not None and case.agent_id is not None:
        key = await asyncio.to_thread(
            contact.ask, conversation, Channel.CHAT, case_id=case.id, agent_id=case.agent_id, account_no=case.account_no
        )
    else:
        key = await asyncio.to_thread(contact.ask, conversation, Channel.CHAT)
    await prompt(hub, conversation, key, Channel.CHAT)
    return key


class RatingRefused(ValueError):
    """A rating the page may not submit: the reason, in Chinese, for the customer."""


async def submit(hub: Hub, conversation: str, body: Item) -> Item:
    """The chat page's answer to its rating card; the thanks is shown in every tab."""
    key = str(body.get("key") or "")
    score, comment = body.get("score"), body.get("comment") or ""
    try:
        valid = check_score(score)
    except ValueError:
        raise RatingRefused("请选择1到5分。") from None
    if not isinstance(comment, str):
        raise RatingRefused("意见请用文字填写。")
    if len(comment.strip()) > MAX_COMMENT:
        raise RatingRefused(f"意见请写在{MAX_COMMENT}字以内。")
    rating = await asyncio.to_thread(hub.contact.rating, key) if key else None
    if rating is None or rating.conversation_id != conversation:
        raise RatingRefused("没有找到要评价的服务，请刷新页面后再试。")
    first = rating.score is None
    answered = await asyncio.to_thread(hub.contact.answer, key, valid, comment)
    if first:
        thanks = await _append(hub, conversation, THANKS, "system")
        await hub.to_customer(conversation, {"type": "rated", "key": key})
        await hub.to_customer(
            conversation, {"type": "message", "who": "system", "text": THANKS, "id": thanks, "at": now_iso()}
        )
    return {"key": key, "score": answered.score, "comment": answered.comment}

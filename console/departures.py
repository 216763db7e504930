"""A chat customer who closed every tab while waiting for a person. After a grace (a reload, a phone that locked
its screen for a moment) the case leaves the queue as abandoned: no agent is offered a customer who is gone,
the wait shown to others is honest and the supervisor's abandonment counts it. The bot takes the conversation
back, and a returning customer reads why.

Sockets belong to one console process: with several behind a balancer a customer's other tab may be held by
another process, so the grace is generous (P95598_CHAT_LEAVE_SECONDS, 2 minutes by default).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from backend.contact_centre import CaseStatus, Channel, Conflict
from backend.contact_centre.kinds import CUSTOMER_LEFT
from channels.rasa import RasaUnavailable
from console.config import CONFIG, CONTACT, HUB

log = logging.getLogger(__name__)
LEFT_NOTICE = "您离开后，排队已经取消了。需要人工客服时，再发“转人工”就可以。"
AGENTS_TOLD = "客户已离开聊天页面，排队已取消"
WATCHES = web.AppKey("departure_watches", set[asyncio.Task[None]])


def page_closed(app: web.Application, conversation: str) -> None:
    """The last chat socket of `conversation` in this process closed: look again after the grace."""
    if app[HUB].customers.get(conversation):
        return
    task = asyncio.create_task(_after_grace(app, conversation))
    app[WATCHES].add(task)
    task.add_done_callback(app[WATCHES].discard)


async def _after_grace(app: web.Application, conversation: str) -> None:
    await asyncio.sleep(app[CONFIG].chat_leave_seconds)
    hub, contact = app[HUB], app[CONTACT]
    if hub.customers.get(conversation):  # came back
        return
    try:
        state = await asyncio.to_thread(contact.open_case_state, conversation)
        if state is None or state.status != CaseStatus.WAITING or state.channel != Channel.CHAT:
            return
        case = await asyncio.to_thread(contact.abandon, state.id, CUSTOMER_LEFT)
    except Conflict:  # answered or ended meanwhile
        return
    try:
        meta = {"channel": Channel.CHAT, "shown_as": "system"}
        await hub.rasa.append(
            conversation,
            [
                {"event": "resume"},
                {"event": "bot", "text": LEFT_NOTICE, "metadata": meta},
                {"event": "action", "name": "action_listen"},
            ],
        )
    except RasaUnavailable as e:
        log.warning("bot not resumed in %s after the customer left: %s", conversation, e)
    await hub.to_case_agents(case, {"type": "customer", "case": case.id, "text": AGENTS_TOLD, "ended": True})
    await hub.broadcast({"type": "queue"})


async def watches(app: web.Application) -> AsyncIterator[None]:
    pending: set[asyncio.Task[None]] = set()
    app[WATCHES] = pending
    yield
    for task in list(pending):
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)

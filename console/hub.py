"""Where customer channels, the bot and the agents meet.

Every customer message goes to Rasa (so the stored conversation is the one timeline, also while the bot is
paused); while a person owns the case it is also pushed to that person's console. Agents' messages are
written into the same Rasa conversation and delivered to whichever channels the customer is on.
Live sockets belong to one process: deliveries go over a bus (console/bus.py; Redis in the scale
profile) and every instance hands them to the sockets it holds. The queue lives in the database
(backend.contact_centre), which each instance's watcher polls, so cases opened by the action server or the voice
gateway pop up on every console.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import defaultdict

from aiohttp import web

from backend.contact_centre import CaseChange, CaseStatus, Channel, ContactStore, EscalationInfo
from backend.models import utcnow
from backend.pii import mask, mask_value
from backend.ratelimit import SlidingWindow
from channels.rasa import RasaClient, RasaUnavailable, handoff_of
from channels.wording import AHEAD, AHEAD_NONE, BUSY, CUT_SHORT, STILL_WAITING
from console.bus import LocalBus

log = logging.getLogger(__name__)
CODE = re.compile(r"^\s*续办码?\s*[:：]?\s*(\d{6})\s*$")
MAX_TEXT = 2000
REMIND_EVERY = 30.0  # seconds between two "please wait, N ahead" replies to a waiting customer


class Hub:
    def __init__(self, rasa: RasaClient, contact: ContactStore, wechat=None, bus=None):
        self.rasa, self.contact, self.wechat = rasa, contact, wechat
        self.bus = bus or LocalBus()
        self.customers: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.agents: dict[int, set[web.WebSocketResponse]] = defaultdict(set)
        self.supervisors: set[int] = set()
        self.reminded: dict[str, float] = {}  # conversation -> when a waiting customer was last told their place
        self.code_failures = {
            "identity": SlidingWindow(5, 600),
            "client": SlidingWindow(10, 600),
            "all": SlidingWindow(60, 60),
        }  # wrong continuation codes

    async def _db(self, fn, *args):
        return await asyncio.to_thread(fn, *args)

    # ---- customers ----
    async def customer_says(self, channel_user: str, channel: str, text: str, metadata: dict) -> list[dict]:
        """One customer message from any text channel; the bot's replies (none while a person owns the case)."""
        cut = len(text or "") > MAX_TEXT
        text = (text or "")[:MAX_TEXT]
        code = CODE.match(text)
        if code:
            return await self.continue_case(channel_user, code.group(1), str(metadata.get("client") or ""))
        conversation = await self._db(self.contact.conversation_of, channel_user)
        case = await self._db(self.contact.open_case_state, conversation)
        metadata = {**metadata, "channel": channel}
        try:
            replies = await self.rasa.send(conversation, text, metadata)
        except RasaUnavailable as e:
            log.warning("bot unavailable for %s: %s", conversation, e)
            replies = [] if case else [{"text": BUSY.on(channel)}]
        if case:
            await self.to_case_agents(case, {"type": "customer", "case": case.id, "text": text, "channel": channel})
        if handoff_of(replies):
            await self.broadcast({"type": "queue"})
        said = []
        if cut:
            said.append(CUT_SHORT.format(n=MAX_TEXT))
        if case and case.status == CaseStatus.WAITING and not replies and self._remind_now(conversation):
            position = await self._db(self.contact.position, case)
            ahead = AHEAD.format(n=position - 1) if position > 1 else AHEAD_NONE
            said.append(STILL_WAITING.on(channel).format(ahead=ahead))
        for line in said:  # written into the conversation, so a reload shows what was shown live
            await self._system_says(conversation, line, channel)
        return replies + [{"text": line} for line in said]

    def _remind_now(self, conversation: str) -> bool:
        now = asyncio.get_running_loop().time()
        if now - self.reminded.get(conversation, -REMIND_EVERY) < REMIND_EVERY:
            return False
        self.reminded[conversation] = now
        if len(self.reminded) > 10_000:  # forget the oldest half: a bound, not a cache policy
            for key in sorted(self.reminded, key=self.reminded.__getitem__)[:5_000]:
                del self.reminded[key]
        return True

    async def _system_says(self, conversation: str, text: str, channel: str) -> None:
        meta = {"channel": channel, "system": True}
        try:
            await self.rasa.append(conversation, [{"event": "bot", "text": text, "metadata": meta}])
        except RasaUnavailable as e:
            log.warning("notice not stored in %s: %s", conversation, e)

    async def continue_case(self, channel_user: str, code: str, client: str = "") -> list[dict]:
        """A continuation code: single use; wrong guesses limited per identity, per client address and overall."""
        keys = [("identity", channel_user), ("all", "all")] + ([("client", client)] if client else [])
        if any(self.code_failures[w].full(k) for w, k in keys):
            return [{"text": "续办码输错的次数太多了，请稍后再试；也可以直接告诉我您要办什么。"}]
        conversation = await self._db(self.contact.redeem_code, code)
        if conversation is None:
            for w, k in keys:
                self.code_failures[w].hit(k)
            return [{"text": "这个续办码不对或者已经过期了，请核对一下；也可以直接告诉我您要办什么。"}]
        await self._db(self.contact.bind, channel_user, conversation)
        return [
            {"text": "好的，已经接上您之前的业务，刚才的记录都在。请继续说吧。"},
            {"custom": {"continued": conversation}},
        ]

    def attach(self, conversation: str, ws: web.WebSocketResponse) -> None:
        self.customers[conversation].add(ws)

    def detach(self, conversation: str, ws: web.WebSocketResponse) -> None:
        self.customers[conversation].discard(ws)
        if not self.customers[conversation]:
            self.customers.pop(conversation, None)

    async def to_customer(self, conversation: str, payload: dict) -> None:
        await self.bus.publish({"to": "customer", "conversation": conversation, "payload": payload})

    async def deliver(
        self, conversation: str, text: str, who: str, name: str = "", buttons: list | None = None, message_id: str = ""
    ) -> None:
        """A message for the customer on every channel they are on (chat sockets, WeChat)."""
        payload = {"type": "message", "who": who, "text": text, "name": name, "buttons": buttons or []}
        await self.to_customer(conversation, {**payload, "id": message_id} if message_id else payload)
        if self.wechat is not None:
            for identity in await self._db(self.contact.identities_of, conversation):
                if identity.startswith("wechat:"):
                    try:
                        await self.wechat.send_text(identity.removeprefix("wechat:"), text)
                    except Exception as e:  # noqa: BLE001 - their API is out of our hands; the agent is told
                        log.warning("WeChat delivery failed: %r", e)

    # ---- agents ----
    async def agent_says(
        self, case: EscalationInfo, agent_name: str, agent_user: str, text: str, who: str = "agent"
    ) -> None:
        meta = {"agent": agent_user, "agent_name": agent_name, "channel": Channel.CONSOLE, "shown_as": who}
        await self.rasa.append(case.conversation_id, [{"event": "bot", "text": text, "metadata": meta}])
        await self.deliver(case.conversation_id, text, who, agent_name)
        await self.to_case_agents(case, {"type": "agent", "case": case.id, "text": text, "name": agent_name})

    async def resume_bot(self, case: EscalationInfo, notice: str) -> None:
        """The bot takes the conversation back with the slots it had."""
        await self.rasa.append(
            case.conversation_id,
            [
                {"event": "resume"},
                {"event": "bot", "text": notice, "metadata": {"channel": Channel.CONSOLE, "system": True}},
                {"event": "action", "name": "action_listen"},
            ],
        )
        await self.deliver(case.conversation_id, notice, "bot")
        await self.to_customer(case.conversation_id, {"type": "handoff", "state": "bot"})

    def join(self, agent_id: int, supervisor: bool, ws: web.WebSocketResponse) -> None:
        self.agents[agent_id].add(ws)
        if supervisor:
            self.supervisors.add(agent_id)

    def leave(self, agent_id: int, ws: web.WebSocketResponse) -> None:
        self.agents[agent_id].discard(ws)
        if not self.agents[agent_id]:
            self.agents.pop(agent_id, None)
            self.supervisors.discard(agent_id)

    async def to_case_agents(self, case: EscalationInfo | CaseChange, payload: dict) -> None:
        """The owner and supervisors; everyone while the case is still waiting in the queue."""
        await self.bus.publish({"to": "case_agents", "owner": case.agent_id, "payload": payload})

    async def to_agent(self, agent_id: int, payload: dict, supervisors: bool = False) -> None:
        """One agent's console tabs only (and every supervisor's, if asked): a whisper, a takeover notice."""
        await self.bus.publish({"to": "agent", "agent": agent_id, "supervisors": supervisors, "payload": payload})

    async def broadcast(self, payload: dict) -> None:
        await self.bus.publish({"to": "agents", "payload": payload})

    async def on_bus(self, message: dict) -> None:
        """A delivery published by any instance: hand it to the sockets this process holds."""
        payload, to = message.get("payload") or {}, message.get("to")
        if to == "customer":
            sockets = list(self.customers.get(message.get("conversation", ""), ()))
        elif to == "agent":
            one = message.get("agent")
            ids = {one} if isinstance(one, int) else set()
            if message.get("supervisors"):
                ids |= self.supervisors
            sockets = [ws for agent_id in ids for ws in list(self.agents.get(agent_id, ()))]
        elif to == "case_agents":  # personal numbers in full for the case's owner only, as in the HTTP views
            owner = message.get("owner")
            ids = set(self.agents) if owner is None else {owner} | self.supervisors
            for agent_id in ids:
                for ws in list(self.agents.get(agent_id, ())):
                    await _send(ws, payload if agent_id == owner else mask_value(payload))
            return
        else:
            sockets = [ws for group in list(self.agents.values()) for ws in list(group)]
        for ws in sockets:
            await _send(ws, payload)

    async def watch_queue(self, interval: float = 0.25) -> None:
        """Pops up cases opened by any process (action server, voice gateway) on every console. While no agent's
        console is connected to this process there is nobody to pop up to, so the database is not asked; an agent
        who connects loads the queue, and the watcher looks a moment back from then."""
        since, seen = utcnow() - dt.timedelta(seconds=1), set()
        while True:
            await asyncio.sleep(interval)
            if not self.agents:
                since = utcnow() - dt.timedelta(seconds=1)
                continue
            try:
                changed = await self._db(self.contact.changed_since, since - dt.timedelta(seconds=2))
            except Exception as e:  # noqa: BLE001 - a database hiccup must not end the watcher
                log.warning("queue watch failed: %r", e)
                continue
            for case in changed:
                key = (case.id, case.updated_at)
                if key in seen:
                    continue
                seen.add(key)
                since = max(since, case.updated_at)
                kind = "new_case" if case.status == CaseStatus.WAITING and case.agent_id is None else "case"
                await self.on_bus(
                    {
                        "to": "agents",
                        "payload": {
                            "type": kind,
                            "case": case.id,
                            "status": case.status,
                            "channel": case.channel,
                            "summary": mask(case.summary.split("\n")[0]),
                        },
                    }
                )
            if len(seen) > 5000:
                seen = {k for k in seen if k[1] >= since - dt.timedelta(seconds=5)}


async def _send(ws: web.WebSocketResponse, payload: dict) -> None:
    if ws.closed:
        return
    try:
        await ws.send_json(payload)
    except (ConnectionError, RuntimeError) as e:
        log.info("socket gone: %r", e)

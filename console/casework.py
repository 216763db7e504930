"""What an agent does with a case, one function per use case: the guarded state change in the contact-centre
store, then what the customer and the other consoles are told. The HTTP handlers (agent_api) only call these.

Each raises `Conflict` when the case is no longer in the state the step needs (another agent was quicker).
"""

from __future__ import annotations

import asyncio

from backend.contact_centre import AgentInfo, CaseStatus, EscalationInfo
from console.hub import Hub

GREETING = "您好，我是人工客服{name}，您之前说的情况我都看到了，马上为您处理。"
HANDED_TO_COLLEAGUE = "我把您转给同事{name}继续处理，您说过的情况他都能看到。"
BACK_TO_BOT = "人工客服这边先处理到这里，接下来由智能客服继续为您服务。还有什么可以帮您？"
SERVICE_ENDED = "感谢您的耐心，本次人工服务已经结束。之后有需要，直接发消息给我就可以。"
BACK_IN_QUEUE = "不好意思，请您稍等，马上为您安排其他客服。"


class UnknownAgent(LookupError):
    """A transfer to a user name that is no agent."""


async def claim(hub: Hub, case: EscalationInfo, agent: AgentInfo) -> EscalationInfo:
    """The agent takes a waiting case: the customer is greeted by name and learns a person is there."""
    claimed = await asyncio.to_thread(hub.contact.claim, case.id, agent.id)
    await hub.agent_says(claimed, agent.display_name, agent.username, GREETING.format(name=agent.display_name))
    await hub.to_customer(claimed.conversation_id, {"type": "handoff", "state": "agent", "name": agent.display_name})
    await hub.broadcast({"type": "queue"})
    return claimed


async def transfer(
    hub: Hub, case: EscalationInfo, agent: AgentInfo, to_username: str
) -> tuple[EscalationInfo, AgentInfo]:
    """A colleague takes over a claimed case; the customer is told who."""
    target = await asyncio.to_thread(hub.contact.agent_by_username, to_username)
    if target is None:
        raise UnknownAgent(to_username)
    moved = await asyncio.to_thread(hub.contact.transfer, case.id, target.id)
    await hub.agent_says(
        moved, agent.display_name, agent.username, HANDED_TO_COLLEAGUE.format(name=target.display_name), who="system"
    )
    await hub.broadcast({"type": "queue"})
    return moved, target


async def finish(hub: Hub, case: EscalationInfo, ending: CaseStatus, disposition: str) -> EscalationInfo:
    """The person's part ends: returned (the bot carries on with the slots it had) or closed."""
    finished = await asyncio.to_thread(hub.contact.finish, case.id, ending, disposition)
    await hub.resume_bot(finished, BACK_TO_BOT if ending == CaseStatus.RETURNED else SERVICE_ENDED)
    await hub.broadcast({"type": "queue"})
    return finished


async def release(hub: Hub, case: EscalationInfo, agent: AgentInfo) -> EscalationInfo:
    """A claimed case goes back to the queue in its old place (the bot stays paused); the customer waits on."""
    waiting = await asyncio.to_thread(hub.contact.release, case.id)
    position = await asyncio.to_thread(hub.contact.position, waiting)
    await hub.agent_says(waiting, agent.display_name, agent.username, BACK_IN_QUEUE, who="system")
    await hub.to_customer(waiting.conversation_id, {"type": "handoff", "state": "waiting", "position": position})
    await hub.broadcast({"type": "queue"})
    return waiting

"""What an agent does with a case, one function per use case: the guarded state change in the contact-centre
store, then what the customer and the other consoles are told. The HTTP handlers (agent_api) only call these.

Each raises `Conflict` when the case is no longer in the state the step needs (another agent was quicker).
"""

from __future__ import annotations

import asyncio

from backend.contact_centre import AgentInfo, CaseStatus, Channel, EscalationInfo, NoteKind
from backend.contact_centre.skills import skill_groups
from console import satisfaction, transcripts
from console.hub import Hub

GREETING = "您好，我是人工客服{name}，您之前说的情况我都看到了，马上为您处理。"
HANDED_TO_COLLEAGUE = "我把您转给同事{name}继续处理，您说过的情况他都能看到。"
BACK_TO_BOT = "人工客服这边先处理到这里，接下来由智能客服继续为您服务。还有什么可以帮您？"
SERVICE_ENDED = "感谢您的耐心，本次人工服务已经结束。之后有需要，直接发消息给我就可以。"
SERVICE_ENDED_CALL = "本次人工服务已经结束，感谢您的来电。"  # a call: nobody can "send a message" on the phone
BACK_IN_QUEUE = "不好意思，请您稍等，马上为您安排其他客服。"
TO_GROUP = "您的问题需要{group}的同事来办理，我已经为您转过去了，您说过的情况他们都能看到，请稍等。"


class UnknownAgent(LookupError):
    """A transfer to a user name that is no agent."""


class UnknownGroup(LookupError):
    """A transfer to a skill group that catalog/skills.yml does not have."""


async def claim(hub: Hub, case: EscalationInfo, agent: AgentInfo) -> EscalationInfo:
    """The agent takes a waiting case: the customer is greeted by name and learns a person is there."""
    claimed = await asyncio.to_thread(hub.contact.claim, case.id, agent.id)
    await hub.agent_says(claimed, agent.display_name, agent.username, GREETING.format(name=agent.display_name))
    await hub.to_customer(claimed.conversation_id, {"type": "handoff", "state": "agent", "name": agent.display_name})
    await hub.broadcast({"type": "queue"})
    return claimed


async def transfer(
    hub: Hub, case: EscalationInfo, agent: AgentInfo, to_username: str, note: str = ""
) -> tuple[EscalationInfo, AgentInfo]:
    """A colleague takes over a claimed case; the customer is told who, the colleague reads the note."""
    target = await asyncio.to_thread(hub.contact.agent_by_username, to_username)
    if target is None or target.id == agent.id:
        raise UnknownAgent(to_username)
    moved = await asyncio.to_thread(hub.contact.transfer, case.id, target.id)
    if note:
        detail = {"to_agent": target.id, "to_name": target.display_name}
        saved = await asyncio.to_thread(hub.contact.add_note, case.id, agent.id, NoteKind.TRANSFER, note, detail)
        # "for": the receiving agent's console pops it up wherever they are
        await hub.to_case_agents(moved, {"type": "note", "case": case.id, "for": target.username, **saved.card()})
    await hub.agent_says(
        moved, agent.display_name, agent.username, HANDED_TO_COLLEAGUE.format(name=target.display_name), who="system"
    )
    await hub.broadcast({"type": "queue"})
    return moved, target


async def transfer_to_group(hub: Hub, case: EscalationInfo, agent: AgentInfo, group: str, note: str) -> EscalationInfo:
    """Back to the queue for a skill group (the router offers it to that group); the note goes with the case."""
    groups = skill_groups()
    if group not in groups.groups:
        raise UnknownGroup(group)
    waiting = await asyncio.to_thread(hub.contact.to_group, case.id, group)
    detail = {"to_group": group, "to_group_name": groups.name(group)}
    saved = await asyncio.to_thread(hub.contact.add_note, case.id, agent.id, NoteKind.TRANSFER, note, detail)
    await hub.to_case_agents(waiting, {"type": "note", "case": case.id, **saved.card()})
    position = await asyncio.to_thread(hub.contact.position, waiting)
    await hub.agent_says(
        waiting, agent.display_name, agent.username, TO_GROUP.format(group=groups.name(group)), who="system"
    )
    await hub.to_customer(waiting.conversation_id, {"type": "handoff", "state": "waiting", "position": position})
    await hub.broadcast({"type": "queue"})
    return waiting


async def finish(hub: Hub, case: EscalationInfo, ending: CaseStatus, disposition: str) -> EscalationInfo:
    """The person's part ends: returned (the bot carries on with the slots it had) or closed."""
    finished = await asyncio.to_thread(hub.contact.finish, case.id, ending, disposition)
    ended = SERVICE_ENDED_CALL if finished.channel == Channel.VOICE else SERVICE_ENDED
    await hub.resume_bot(finished, BACK_TO_BOT if ending == CaseStatus.RETURNED else ended)
    if finished.agent_id is not None:  # the customer rates the agent's service (console/satisfaction.py)
        await satisfaction.ask_after_case(hub, finished)
    await hub.broadcast({"type": "queue"})
    await transcripts.index_quietly(hub, finished)  # 会话记录: the transcript is searchable from now on
    return finished


async def release(hub: Hub, case: EscalationInfo, agent: AgentInfo) -> EscalationInfo:
    """A claimed case goes back to the queue in its old place (the bot stays paused); the customer waits on."""
    waiting = await asyncio.to_thread(hub.contact.release, case.id)
    position = await asyncio.to_thread(hub.contact.position, waiting)
    await hub.agent_says(waiting, agent.display_name, agent.username, BACK_IN_QUEUE, who="system")
    await hub.to_customer(waiting.conversation_id, {"type": "handoff", "state": "waiting", "position": position})
    await hub.broadcast({"type": "queue"})
    return waiting

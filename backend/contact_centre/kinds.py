"""The contact centre's closed vocabularies. Each value is the string stored in the database."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """A case's life: waiting -> claimed -> returned (to the bot) | closed; claimed -> waiting (released)."""

    WAITING = "waiting"
    CLAIMED = "claimed"
    RETURNED = "returned"
    CLOSED = "closed"

    @property
    def open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = (CaseStatus.WAITING, CaseStatus.CLAIMED)


class EscalationReason(StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    NOT_UNDERSTOOD = "not_understood"
    FORM_FAILED = "form_failed"
    ANGER = "anger"
    SAFETY = "safety"


class Channel(StrEnum):
    """Where a customer talks to us (and `console`: an agent writing into the conversation)."""

    VOICE = "voice"
    WECHAT = "wechat"
    CHAT = "chat"
    APP = "app"
    CONSOLE = "console"


class Priority(StrEnum):
    NORMAL = "normal"
    CARE = "care"  # the customer holds the insight tag 敏感客户 (backend.customer_insight.SENSITIVE)
    URGENT = "urgent"  # a safety risk


# Who a person takes first, stated once (the queue, the router's offers, the caller's place in line): urgent
# safety cases, then sensitive customers, then the rest; oldest first within each.
QUEUE_ORDER = (Priority.URGENT, Priority.CARE, Priority.NORMAL)


class AgentRole(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QUALITY = "quality"  # 质检员: the inspection queue and recordings, no cases


class AgentStatus(StrEnum):
    """An agent's presence: only AVAILABLE agents are offered cases automatically."""

    AVAILABLE = "available"  # 示闲
    BUSY = "busy"  # 示忙 (after-call work, a meeting)
    BREAK = "break"  # 小休
    OFFLINE = "offline"  # 离线


class NoteKind(StrEnum):
    """What a case note records (backend.models.CaseNote); none of it is shown to the customer."""

    NOTE = "note"  # an internal note
    TRANSFER = "transfer"  # moved to an agent or a skill group, with the reason
    WHISPER = "whisper"  # a supervisor's hint to the agent
    VERIFY = "verify"  # identity verified by the agent on the caller's behalf
    BIND = "bind"  # case bound to a customer account
    MONITOR = "monitor"  # a supervisor opened the live chat
    TAKEOVER = "takeover"  # a supervisor took the case over
    OFFER = "offer"  # offered to an agent, declined or lapsed


CHANNEL_LABELS: dict[str, str] = {
    Channel.VOICE: "电话",
    Channel.WECHAT: "微信",
    Channel.CHAT: "网页聊天",
    Channel.APP: "网上国网",
    Channel.CONSOLE: "坐席",
}
REASON_LABELS: dict[str, str] = {
    EscalationReason.CUSTOMER_REQUEST: "客户要求转人工",
    EscalationReason.NOT_UNDERSTOOD: "机器人两次没能理解",
    EscalationReason.FORM_FAILED: "业务办理没能完成",
    EscalationReason.ANGER: "客户情绪激动",
    EscalationReason.SAFETY: "涉及安全风险",
}
DISPOSITIONS: dict[str, str] = {  # the closing codes an agent picks when a case ends
    "resolved": "问题已解决",
    "order_created": "已派工单",
    "info_given": "已答复咨询",
    "callback": "需要回访",
    "no_response": "客户无应答",
    "offline": "转线下处理",
}
CUSTOMER_ENDED = "customer_ended"  # the customer ended the chat (set by the system, not an agent's choice)
CUSTOMER_LEFT = "customer_left"  # the customer closed the chat page while waiting and did not come back
DISPOSITION_LABELS: dict[str, str] = {**DISPOSITIONS, CUSTOMER_ENDED: "客户结束会话", CUSTOMER_LEFT: "客户排队时离开"}
AGENT_STATUS_LABELS: dict[str, str] = {
    AgentStatus.AVAILABLE: "示闲",
    AgentStatus.BUSY: "示忙",
    AgentStatus.BREAK: "小休",
    AgentStatus.OFFLINE: "离线",
}
STATUS_LABELS: dict[str, str] = {
    CaseStatus.WAITING: "排队中",
    CaseStatus.CLAIMED: "处理中",
    CaseStatus.RETURNED: "已交回机器人",
    CaseStatus.CLOSED: "已结束",
}

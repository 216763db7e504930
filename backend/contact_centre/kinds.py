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
    URGENT = "urgent"


class AgentRole(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


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
STATUS_LABELS: dict[str, str] = {
    CaseStatus.WAITING: "排队中",
    CaseStatus.CLAIMED: "处理中",
    CaseStatus.RETURNED: "已交回机器人",
    CaseStatus.CLOSED: "已结束",
}

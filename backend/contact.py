"""Moved to `backend.contact_centre` (agents, cases, continuation); kept so existing imports keep working."""
from backend.contact_centre import (  # noqa: F401
    CODE_TTL, OPEN_STATUSES, AgentInfo, CaseStatus, Conflict, ContactStore, EscalationInfo, check_password,
    hash_password,
)

"""The contact centre's records: agents and logins, the escalation queue, continuation codes and bindings.

Shared by the action server (which escalates), the console (where agents work) and the voice gateway.
`ContactStore` is the three stores over one database; each can also be used on its own.
"""

from __future__ import annotations

from backend.contact_centre.agents import AgentInfo, AgentStore, check_password, hash_password
from backend.contact_centre.canned import CannedStore
from backend.contact_centre.cases import CaseChange, CaseStore, Conflict, EscalationInfo
from backend.contact_centre.continuation import CODE_TTL, ContinuationStore
from backend.contact_centre.kinds import (
    OPEN_STATUSES,
    AgentRole,
    AgentStatus,
    CaseStatus,
    Channel,
    EscalationReason,
    NoteKind,
    Priority,
)
from backend.contact_centre.notes import NoteStore
from backend.contact_centre.presence import Presence, PresenceStore
from backend.contact_centre.ratings import RatingInfo, RatingStore
from backend.contact_centre.routing import OfferGone, RoutingStore


class ContactStore(
    AgentStore, CaseStore, ContinuationStore, RatingStore, NoteStore, CannedStore, RoutingStore, PresenceStore
):
    """Agents, cases and continuations in one object (each store keeps only the session factory)."""


__all__ = [
    "CODE_TTL",
    "OPEN_STATUSES",
    "AgentInfo",
    "AgentRole",
    "AgentStatus",
    "AgentStore",
    "CannedStore",
    "CaseChange",
    "CaseStatus",
    "CaseStore",
    "Channel",
    "Conflict",
    "ContactStore",
    "ContinuationStore",
    "EscalationInfo",
    "EscalationReason",
    "NoteKind",
    "NoteStore",
    "OfferGone",
    "Presence",
    "PresenceStore",
    "Priority",
    "RatingInfo",
    "RatingStore",
    "RoutingStore",
    "check_password",
    "hash_password",
]

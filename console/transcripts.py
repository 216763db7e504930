"""A finished case's transcript for search (backend.contact_centre.search): read from the Rasa conversation up
to the case's end (else the context kept at escalation), indexed and stored. Called when a case ends
(console/casework.finish) and, for cases that ended before, when the history page needs them."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from backend.case_view import transcript
from backend.contact_centre import EscalationInfo
from backend.contact_centre.search import TranscriptSearch, Turn, turns_of, until_end
from console.hub import Hub

log = logging.getLogger(__name__)
BACKFILL = 20  # earlier cases indexed per history search


async def index_case(hub: Hub, case: EscalationInfo) -> list[Turn]:
    """Indexes the case's transcript; the turns indexed."""
    return await index_conversation(hub, case.id, case.conversation_id, case.closed_at, case.context)


async def index_conversation(
    hub: Hub, case_id: int, conversation: str, ended: dt.datetime | None, context: dict[str, Any]
) -> list[Turn]:
    tracker = await hub.rasa.tracker(conversation)
    events = tracker.get("events") or []
    turns = turns_of(transcript(until_end(events, ended), limit=10_000) if events else context.get("transcript") or [])
    await asyncio.to_thread(TranscriptSearch(hub.contact.sessions).index, case_id, turns)
    return turns


async def index_quietly(hub: Hub, case: EscalationInfo) -> None:
    """For the end of a case: a failure is logged, and the case is indexed later by the history page."""
    try:
        await index_case(hub, case)
    except Exception:  # noqa: BLE001 - search is secondary: ending the case must not fail because of it
        log.exception("case %s not indexed for search", case.id)


async def backfill(hub: Hub, limit: int = BACKFILL) -> int:
    """Indexes up to `limit` ended cases that are not indexed yet (they ended before search existed)."""
    pending = await asyncio.to_thread(TranscriptSearch(hub.contact.sessions).unindexed, limit)
    for case_id, conversation, ended, context in pending:
        try:
            await index_conversation(hub, case_id, conversation, ended, context)
        except Exception:  # noqa: BLE001 - one case that cannot be read must not stop the others
            log.exception("case %s not indexed for search", case_id)
    return len(pending)

"""Caller-ID first: who is calling, and is their area already known to be without power.

The gateway asks the back end through `CustomerFacts` (backend.customer_facts.BackendCustomerFacts in the
product) and never reads the database itself. The calls block, so they run in a worker thread: one call's
lookup never holds up another call's audio.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from backend.cis import CustomerInfo, OutageInfo
from channels.phone import national_number

log = logging.getLogger(__name__)


class CustomerFacts(Protocol):
    """What the voice gateway may know from the back end."""

    def caller(self, number: str) -> tuple[CustomerInfo | None, OutageInfo | None]:
        """The customer registered with this number, and the outage in their area to tell them about."""
        ...

    def handed_over_case(self, conversation_id: str) -> int | None:
        """The open phone case of this conversation: the bot handed the call to a person."""
        ...

    def ask_rating(self, conversation_id: str | None, case_id: int | None = None) -> str | None:
        """Asks for a satisfaction rating of the contact (an agent's case, else the bot-only call): its key."""
        ...

    def answer_rating(self, contact_key: str, score: int) -> bool:
        """Stores the caller's key 1-5 for the rating asked; False when none was asked."""
        ...


@dataclass(frozen=True)
class Caller:
    number: str | None  # 11-digit mobile or a landline, None when withheld
    customer: CustomerInfo | None = None
    outage: OutageInfo | None = None  # an active outage in the customer's area, fault ones first


class CallerLookup:
    def __init__(self, facts: CustomerFacts):
        self._facts = facts

    async def find(self, raw_number: str | None) -> Caller:
        number = national_number(raw_number)
        if number is None:
            return Caller(None)
        try:
            customer, outage = await asyncio.to_thread(self._facts.caller, number)
        except Exception:  # a back end that is down must not stop the call: treat as unknown
            log.exception("caller lookup failed for %s", number)
            return Caller(number)
        return Caller(number, customer, outage)

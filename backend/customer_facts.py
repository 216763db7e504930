"""The back end as the voice gateway sees it (voice.lookup.CustomerFacts): who is calling (with the CIS's tags and
the insight run's, e.g. 老年 for the simple menu), whether their area is without power, and whether the bot handed
the call to a person. The gateway holds this object and never the database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from backend.cis import CIS, CustomerInfo, OutageInfo, SqlCIS
from backend.contact_centre import Channel, ContactStore
from backend.customer_insight import CustomerInsight
from backend.db import make_engine, make_sessionmaker


class BackendCustomerFacts:
    def __init__(self, cis: CIS, contact: ContactStore, insight: CustomerInsight | None = None):
        self._cis, self._contact, self._insight = cis, contact, insight

    @classmethod
    def over(cls, cis: SqlCIS) -> BackendCustomerFacts:
        """Facts from the database an existing CIS reads (the contact centre's records and the published insight
        live there too)."""
        return cls(cis, ContactStore(cis.sessions), CustomerInsight(cis.sessions))

    def caller(self, number: str) -> tuple[CustomerInfo | None, OutageInfo | None]:
        """The customer registered with this phone number, with the tags the insight run gave them after the
        CIS's own, and the outage in their area (fault ones first)."""
        customer = self._cis.find_customer_by_phone(number)
        if customer is None:
            return None, None
        if self._insight is not None:
            held = [t.tag for t in self._insight.tags(customer.account_no) if t.tag not in customer.tags]
            customer = dataclasses.replace(customer, tags=[*customer.tags, *held])
        outages = sorted(
            self._cis.active_outages(customer.area_code), key=lambda o: (o.kind != "fault", o.expected_end)
        )
        return customer, outages[0] if outages else None

    def handed_over_case(self, conversation_id: str) -> int | None:
        """The open phone case of this conversation (the bot handed the call to a person), if there is one."""
        case = self._contact.open_case(conversation_id)
        return case.id if case is not None and case.channel == Channel.VOICE else None

    def ask_rating(self, conversation_id: str | None, case_id: int | None = None) -> str | None:
        """Asks the caller to rate this contact: the case an agent handled (by its id), else the bot-only call
        in `conversation_id`. The rating's key, or None when there is no such case."""
        if case_id is not None:
            case = self._contact.case(case_id)
            if case is None:
                return None
            return self._contact.ask(
                case.conversation_id, Channel.VOICE, case_id=case.id, agent_id=case.agent_id, account_no=case.account_no
            )
        return self._contact.ask(conversation_id, Channel.VOICE) if conversation_id else None

    def answer_rating(self, contact_key: str, score: int) -> bool:
        """The caller's key 1-5 for the rating asked; False when no such rating was asked."""
        try:
            self._contact.answer(contact_key, score)
        except LookupError:
            return False
        return True


@contextmanager
def customer_facts(db_url: str | None = None) -> Iterator[BackendCustomerFacts]:
    """Facts over the database at `db_url` (default: P95598_DB_URL), its engine disposed at the end."""
    engine = make_engine(db_url)
    try:
        yield BackendCustomerFacts.over(SqlCIS(make_sessionmaker(engine)))
    finally:
        engine.dispose()

"""The back end as the voice gateway sees it (voice.lookup.CustomerFacts): who is calling, whether their area
is without power, and whether the bot handed the call to a person. The gateway holds this object and never
the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from backend.cis import CIS, CustomerInfo, OutageInfo, SqlCIS
from backend.contact_centre import Channel, ContactStore
from backend.db import make_engine, make_sessionmaker


class BackendCustomerFacts:
    def __init__(self, cis: CIS, contact: ContactStore):
        self._cis, self._contact = cis, contact

    @classmethod
    def over(cls, cis: SqlCIS) -> BackendCustomerFacts:
        """Facts from the database an existing CIS reads (the contact centre's records live there too)."""
        return cls(cis, ContactStore(cis.sessions))

    def caller(self, number: str) -> tuple[CustomerInfo | None, OutageInfo | None]:
        """The customer registered with this phone number, and the outage in their area (fault ones first)."""
        customer = self._cis.find_customer_by_phone(number)
        if customer is None:
            return None, None
        outages = sorted(
            self._cis.active_outages(customer.area_code), key=lambda o: (o.kind != "fault", o.expected_end)
        )
        return customer, outages[0] if outages else None

    def handed_over_case(self, conversation_id: str) -> int | None:
        """The open phone case of this conversation (the bot handed the call to a person), if there is one."""
        case = self._contact.open_case(conversation_id)
        return case.id if case is not None and case.channel == Channel.VOICE else None


@contextmanager
def customer_facts(db_url: str | None = None) -> Iterator[BackendCustomerFacts]:
    """Facts over the database at `db_url` (default: P95598_DB_URL), its engine disposed at the end."""
    engine = make_engine(db_url)
    try:
        yield BackendCustomerFacts.over(SqlCIS(make_sessionmaker(engine)))
    finally:
        engine.dispose()

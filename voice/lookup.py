"""Caller-ID first: who is calling, and is their area already known to be without power.

Uses `backend.cis.CIS.find_customer_by_phone` and `active_outages(area_code)`; the database calls run in a
worker thread so one call's lookup never holds up another call's audio.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from backend.cis import CIS, CustomerInfo, OutageInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    number: str | None                 # 11-digit mobile or a landline, None when withheld
    customer: CustomerInfo | None = None
    outage: OutageInfo | None = None   # an active outage in the customer's area, fault ones first


def national_number(raw: str | None) -> str | None:
    """+8613912340001 / 008613912340001 / 13912340001 -> 13912340001; withheld or odd numbers -> None."""
    digits = re.sub(r"\D", "", raw or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12):
            digits = digits[len(prefix):]
            if not re.fullmatch(r"1[3-9]\d{9}", digits):
                digits = "0" + digits   # landline: 86 10 1234 5678 -> 010 1234 5678
            break
    if re.fullmatch(r"1[3-9]\d{9}", digits) or re.fullmatch(r"0\d{9,11}", digits):
        return digits
    return None


class CallerLookup:
    def __init__(self, cis: CIS):
        self._cis = cis

    def _find(self, number: str) -> Caller:
        customer = self._cis.find_customer_by_phone(number)
        if customer is None:
            return Caller(number)
        outages = self._cis.active_outages(customer.area_code)
        outages.sort(key=lambda o: (o.kind != "fault", o.expected_end))
        return Caller(number, customer, outages[0] if outages else None)

    async def find(self, raw_number: str | None) -> Caller:
        number = national_number(raw_number)
        if number is None:
            return Caller(None)
        try:
            return await asyncio.to_thread(self._find, number)
        except Exception:   # a back end that is down must not stop the call: treat as unknown
            log.exception("caller lookup failed for %s", number)
            return Caller(number)

"""家电损坏理赔: the claim is checked against what the back end knows. The damaged appliances are where the
verified account is supplied, an outage recorded in that area around the time of the fault supports the
claim, and a claim made more than seven days after the damage is still filed but the customer is told the
rule (《居民用户家用电器损坏处理办法》: damage is to be reported within seven days)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import slot_readers
from actions.forms.identity import known_account
from actions.forms.reports import ReportForm
from actions.services import services
from backend.spoken import LOCAL_TZ

REPORT_WITHIN_DAYS = 7
LATE = "按规定，家电损坏一般要在七天内报告，您这次已经超过了；我们照样登记，由工作人员核实后答复您。"


def fault_day(value: str | None) -> dt.date | None:
    """The day of a `when` slot's value ("2026-12-03 20:00", "2026-12-03 晚上"); None for words alone."""
    m = re.match(r"(\d{4}-\d{2}-\d{2})", value or "")
    return dt.date.fromisoformat(m.group(1)) if m else None


def fault_moment_utc(value: str | None) -> dt.datetime | None:
    """The fault's time in UTC (naive, as the back end stores times); evening when only the day is known."""
    day = fault_day(value)
    if day is None:
        return None
    clock = re.search(r"(\d{2}):(\d{2})", value or "")
    local = dt.datetime.combine(day, dt.time(int(clock.group(1)), int(clock.group(2))) if clock else dt.time(20, 0))
    return local.replace(tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)


class ValidateApplianceDamageClaimForm(ReportForm):
    form = "appliance_damage_claim_form"
    function_id = "appliance_damage_claim"

    async def validate_fault_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        spec = services().catalog.slots["fault_time"]
        problem = slot_readers.problem(spec, value, tracker.current_slot_values(), dt.datetime.now(LOCAL_TZ).date())
        if problem:
            dispatcher.utter_message(text=problem)
            return {"fault_time": None}
        return {"fault_time": value}

    def more_details(self, tracker: Tracker, details: dict[str, Any]) -> dict[str, Any]:
        more = super().more_details(tracker, details)
        cis = services().cis
        customer = cis.get_customer(known_account(tracker) or tracker.get_slot("account_no") or "")
        if customer is None:
            return more
        more.update(address=customer.address, area=customer.area_name)
        at = fault_moment_utc(tracker.get_slot("fault_time"))
        if at is not None:
            around = (at + dt.timedelta(hours=h) for h in (0, -2, 2))
            outages = [o for moment in around for o in cis.active_outages(customer.area_code, moment)]
            more["outage_on_record"] = outages[0].reason if outages else None  # supports the claim; checked on site
        day = fault_day(tracker.get_slot("fault_time"))
        if day is not None:
            more["reported_after_days"] = (dt.datetime.now(LOCAL_TZ).date() - day).days
        return more

    def promise(self, tracker: Tracker) -> str:
        day = fault_day(tracker.get_slot("fault_time"))
        late = day is not None and (dt.datetime.now(LOCAL_TZ).date() - day).days > REPORT_WITHIN_DAYS
        return (LATE if late else "") + super().promise(tracker)

"""How a form reads one message (mixed into ServiceForm): the candidate values for its slots, from the NLU's
entities and from patterns in the text; an address put right in part or completed; a description, or more
about the problem, told out of turn; the catalog's generic readers for the rest."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from rasa_sdk import Tracker

from actions import descriptions, extract, followups, places, slot_readers
from actions.forms.confirm import CONFIRM_SLOT, DESCRIPTION_SLOTS, SLOTS
from actions.forms.identity import registered_address
from actions.services import services
from nlu.opening import chinese_chars


def entity(tracker: Tracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


class MessageReading:
    """Mixed into ServiceForm, which provides the rest of a form (below, for the type checker only)."""

    phone_slot: ClassVar[str] = "contact_phone"  # where an 11-digit number goes
    opening_min_chars: ClassVar[int] = 8  # an opening request this long is already the description

    if TYPE_CHECKING:

        @staticmethod
        def unanswered(tracker: Tracker) -> str: ...

    def extract(
        self, tracker: Tracker, text: str, intent: str | None, requested: str | None, required: list[str], side: bool
    ) -> dict[str, Any]:
        """Candidate values for this form's slots found in the latest message."""
        if text.startswith("/"):  # a button payload carries no slot values
            return {}

        def asked(slot: str) -> bool:
            return requested == slot

        opening = requested is None  # the message that started this form (by its intent, a switch or a follow-up)
        found: dict[str, Any] = {
            "account_no": entity(tracker, "account_no") or extract.account_no(text),
            self.phone_slot: extract.mobile(entity(tracker, "phone") or text),
            # the pattern sees whole addresses; the CRF entity can stop at a token boundary ("…501" of "501室")
            "address": places.address(text, whole_text=asked("address") and not side)
            or places.place_entity(entity(tracker, "address")),
            "bill_month": extract.month(text) or extract.month(entity(tracker, "month") or ""),  # "去年8月份"
            "tou_action": extract.tou_action(text),
            "connection_type": extract.connection_type(text),
            "order_ref": (
                extract.order_no(entity(tracker, "order_no") or text, bare_digits=asked("order_ref"))
                or (extract.account_no(text) if asked("order_ref") else None)
            ),
            "safety_risk": True if extract.dangerous(text) else False if extract.no_danger(text) else None,
        }
        if extract.caller_means_this_phone(text) and tracker.get_slot("caller_phone") and not found[self.phone_slot]:
            found[self.phone_slot] = tracker.get_slot("caller_phone")
        if not found["address"] and (asked("address") or opening) and places.means_account_address(text):
            found["address"] = registered_address(tracker)  # of the account proved in this chat only
        known = tracker.get_slot("address")
        part = places.corrected_part(text)
        if known and part and part[0] in known:  # "是3单元，不是2单元": that part of the place given, changed
            found["address"] = known.replace(part[0], part[1], 1)
        elif found["address"] and known and found["address"] != known:
            # a district, a landmark or more detail for the place already given completes it
            merged = followups.refined_address(known, found["address"])
            if merged or found["address"] == places.district(found["address"]):
                found["address"] = merged
        elif found["address"] and found["address"] == places.district(found["address"]) and not asked("address"):
            found["address"] = None
        elif (
            requested is not None
            and known
            and not found["address"]
            and (more := places.house_part(text))
            and more not in known
        ):
            swapped = places.replaced_part(known, more) if extract.CORRECTING.search(text) else None
            if swapped or requested in (CONFIRM_SLOT, "address"):  # "哦不对 是38号" at any question
                found["address"] = swapped or known + more  # "1502室 门牌号你漏了"; "门牌号说错了 是165号"
        found["phone_last4"] = extract.last4_alongside(text)
        if asked("holder_name"):
            found["holder_name"] = text[:20]
        if asked("phone_last4") and not found["phone_last4"]:
            full = extract.mobile(text)
            found["phone_last4"] = full[-4:] if full else extract.last4(text)
        if asked("bill_month") and any(w in text for w in ("最近", "最新", "都行", "随便")):
            found["bill_month"] = "latest"
        if asked("address") or opening:
            place = services().cis.place_in(text)  # a village or estate of the territory named without a number
            if place and (
                found["address"] is None or (place not in found["address"] and not re.search(r"\d", found["address"]))
            ):
                found["address"] = (places.district(text) or "") + place
        other = any(found[k] for k in ("address", self.phone_slot, "account_no", "phone_last4"))
        # the place and numbers said with it left out, and greetings before it and a question to us after it
        problem = descriptions.problem_words(text) if other else descriptions.description(text)
        if chinese_chars(problem) < 4:
            problem = text
        for slot in DESCRIPTION_SLOTS:
            if asked(slot) and len(text) >= 2 and (not other or descriptions.describes(extract.without_numbers(text))):
                found[slot] = descriptions.description(text)[:500]
            elif opening and len(text) >= self.opening_min_chars:
                found[slot] = (self.unanswered(tracker) + problem)[:500]
            elif (
                slot in required
                and not tracker.get_slot(slot)
                and not asked(slot)
                and other
                and len(extract.without_numbers(text)) >= 15
                and descriptions.describes(text)
            ):
                found[slot] = problem[:500]  # the place and what is wrong in one answer
            elif opening and self.unanswered(tracker) and slot in required:
                found[slot] = (self.unanswered(tracker) + descriptions.description(text))[:500]
            elif (
                slot in required
                and tracker.get_slot(slot)
                and requested == CONFIRM_SLOT
                and not found["address"]
                and (new := descriptions.restated(text))
            ):
                found[slot] = new[:500]  # "情况写错了 改成：…": the description given again, read back again
            elif (
                slot in required
                and tracker.get_slot(slot)
                and requested == CONFIRM_SLOT
                and (note := descriptions.note_to_add(text))
                and note not in str(tracker.get_slot(slot) or "")
            ):
                found[slot] = f"{tracker.get_slot(slot)}；{note}"[:500]  # "对 把单号也写上": added, read back again
            elif (
                slot in required
                and tracker.get_slot(slot)
                and requested not in (CONFIRM_SLOT, slot)
                and other
                and problem != text
                and descriptions.describes(problem)
                and not places.PLACE_MARKERS.search(problem)
                and problem not in str(tracker.get_slot(slot) or "")
                and not side
            ):
                found[slot] = f"{tracker.get_slot(slot)}；{problem}"[:500]  # "…501室，从前天开始的"
            elif (
                slot in required
                and tracker.get_slot(slot)
                and requested != CONFIRM_SLOT
                and not any(found[k] for k in ("address", self.phone_slot, "account_no", "safety_risk"))
                and descriptions.describes(text)
                and not side
            ):
                found[slot] = f"{tracker.get_slot(slot)}；{text}"[:500]  # more about the problem, out of turn
        if found["address"] and "address" not in required and requested is not None and not side:
            for slot in DESCRIPTION_SLOTS:  # a place told to a form that asks none (a complaint) is kept with it
                said = found.get(slot) or tracker.get_slot(slot)
                if slot in required and said and found["address"] not in said:
                    found[slot] = f"{said}；地址：{found['address']}"[:500]
        known_values = {**tracker.current_slot_values(), **{k: v for k, v in found.items() if v is not None}}
        found.update(slot_readers.read(self.catalog_slots(required), text, requested, known_values))
        keep = set(required) | {"contact_phone", "account_no"}  # a phone or 户号 given is kept for the request anyway
        return {k: v for k, v in found.items() if k in keep and v is not None}

    @staticmethod
    def catalog_slots(required: list[str]) -> list[slot_readers.SlotSpec]:
        """This form's slots that the catalog's generic readers fill (dates, numbers, choices, free text)."""
        return [SLOTS[s] for s in required if s in SLOTS and SLOTS[s].kind in slot_readers.GENERIC_KINDS]

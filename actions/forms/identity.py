"""Identity questions inside forms (户号, last four digits, the holder's name) and the gate before completing.

The proof lives in the back end (`backend.identity`), bound to this conversation and to one account; the
`verified_account` slot is only a hint for prefilling. A different 户号 needs its own check, changing the
registered phone needs the holder's name as well, and the answers never tell whether an account exists.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from actions import wording
from actions.services import services
from backend.identity import CHANGE, READ, Check

WRONG = (
    "户号{account}和这个手机尾号对不上，请您核对一下；如果户号说错了，直接告诉我正确的户号。"  # same for unknown 户号
)
WRONG_ON_FILE = "这个手机尾号和登记的对不上，请您核对一下。"
WRONG_NAME = "户主姓名和我们登记的不一致，请您核对一下。"
ASK_NAME = "请告诉我户主的姓名，比如“王建国”。"
LOCKED = "核验没有通过的次数太多了，为了保护账户安全，暂时不能在线核验。请半小时后再试，或者带身份证件到营业厅办理。"


def client_of(tracker: Tracker) -> str:
    """Who is asking, beyond the conversation: the caller's number, else the client the channel names."""
    caller = tracker.get_slot("caller_phone")
    if caller:
        return f"tel:{caller}"
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return str(metadata.get("client") or "")[:64] if isinstance(metadata, dict) else ""
    return ""


def verified(tracker: Tracker, account: str | None, strength: int = READ) -> bool:
    return bool(account) and services().identity.verified(tracker.sender_id, account, strength)


def known_account(tracker: Tracker) -> str | None:
    """The account this conversation has proved, if the proof is still live."""
    account = tracker.get_slot("verified_account")
    return account if verified(tracker, account) else None


ACCOUNT_ADDRESS_UNPROVEN = (
    "户号登记的地址要先核对身份才能调出来。您直接告诉我详细地址也可以，比如“城东区人民路12号3栋201”。",
    "户号登记的地址要先核对身份才能调出来。您直接说一下详细地址也可以，要到门牌号。",
)


def registered_address(tracker: Tracker) -> str | None:
    """ "就户号那个地址": the address of the account this conversation has proved; None without a live proof (an
    account's address is not told to whoever knows its number)."""
    account = known_account(tracker)
    customer = services().cis.get_customer(account) if account else None
    return customer.address if customer and customer.address else None


class IdentityChecks:
    """Mixed into ServiceForm (which provides form, function_id and required())."""

    def scoped(self, domain) -> bool:
        return "phone_last4" in self.required(domain, self.form)

    def unproven(self, tracker: Tracker, values: dict, required: list[str]) -> dict[str, Any]:
        """Slots to ask again before this request may complete: the proof must be for *this* account."""
        if "phone_last4" not in required:
            return {}
        account = values.get("account_no")
        if not verified(tracker, account):
            return {"phone_last4": None, "holder_name": None} if "holder_name" in required else {"phone_last4": None}
        if "holder_name" in required and not verified(tracker, account, CHANGE):
            return {"holder_name": None}
        return {}

    def proven_prefill(self, tracker: Tracker, required: list[str]) -> dict[str, Any]:
        account = tracker.get_slot("account_no")
        found = {}
        if "phone_last4" in required and not tracker.get_slot("phone_last4") and verified(tracker, account):
            found["phone_last4"] = "已核验"
        if "holder_name" in required and not tracker.get_slot("holder_name") and verified(tracker, account, CHANGE):
            found["holder_name"] = "已核验"
        return found

    def verify_alongside(self, tracker: Tracker, account: str, last4: str) -> bool:
        """户号 and 尾号 given together for a request that does not need them: kept for later requests."""
        correct = services().cis.verify_identity(account, last4)
        return services().identity.attempt(tracker.sender_id, client_of(tracker), account, correct) is Check.OK

    async def validate_account_no(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if self.scoped(domain):  # never say here whether the account exists: the last four decide
            return {"account_no": value} if verified(tracker, value) else {"account_no": value, "phone_last4": None}
        if services().cis.get_customer(value) is None:
            dispatcher.utter_message(text=f"没有查到户号{value}，请您核对一下再说一遍。")
            return {"account_no": None}
        return {"account_no": value}

    def account_to_prove(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("account_no")

    async def validate_phone_last4(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        account = self.account_to_prove(tracker)
        if not account:
            return {"phone_last4": None}
        if value == "已核验" and verified(tracker, account):
            return {"phone_last4": value}
        correct = services().cis.verify_identity(account, value)
        result = services().identity.attempt(tracker.sender_id, client_of(tracker), account, correct)
        if result is Check.OK:
            return {"phone_last4": value, "verified_account": account}
        if result is Check.LOCKED:
            dispatcher.utter_message(text=LOCKED)
            return {"phone_last4": None, "form_outcome": "locked", "requested_slot": None}
        if account == tracker.get_slot("account_no"):  # the 户号 the customer gave is read back, never one on file
            heard = " ".join(account) if wording.is_voice(tracker) else account
            dispatcher.utter_message(text=WRONG.format(account=heard))
        else:
            dispatcher.utter_message(text=WRONG_ON_FILE)
        return {"phone_last4": None}

    async def validate_holder_name(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        account = tracker.get_slot("account_no")
        if not account or not verified(tracker, account):
            return {"holder_name": None}
        if value == "已核验" and verified(tracker, account, CHANGE):
            return {"holder_name": value}
        customer = services().cis.get_customer(account)
        name = re.sub(
            r"^(?:我是|我叫|户主是|户主叫|户主|名字是|名字叫|姓名是|叫)",
            "",
            "".join(ch for ch in str(value) if "\u4e00" <= ch <= "\u9fff"),
        )
        if not 2 <= len(name) <= 5:  # a number or a sentence where the name was asked: not an attempt
            dispatcher.utter_message(text=ASK_NAME)
            return {"holder_name": None}
        correct = bool(customer and name and (customer.name == name or name.endswith(customer.name)))
        result = services().identity.attempt(
            tracker.sender_id, client_of(tracker), account, correct, method="last4+name", strength=CHANGE
        )
        if result is Check.OK:
            return {"holder_name": customer.name}
        if result is Check.LOCKED:
            dispatcher.utter_message(text=LOCKED)
            return {"holder_name": None, "form_outcome": "locked", "requested_slot": None}
        dispatcher.utter_message(text=WRONG_NAME)
        return {"holder_name": None}

"""The service-function catalog (catalog/service_functions.yml): the one source of ids, names, synonyms, channels,
and of each form-kind function's form (its slots, questions per channel, read-back and agent labels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog" / "service_functions.yml"
SELF_SERVICE_KINDS = ("self_service", "payment", "notification")
CONFIRM_SLOT = "order_confirmed"  # the read-back before filing: the last slot of every form that files an order
# How a slot's value is read from the customer's words. The first group has its own reader in
# actions/forms/base.py; the second group is read by the catalog readers of actions/slot_readers.py (read) from the
# slot's own settings, so a new function built from them needs no code.
SPECIAL_KINDS = frozenset(
    {
        "account_no",
        "last4",
        "holder_name",
        "address",
        "description",
        "danger",
        "month",
        "order_no",
        "tou_action",
        "connection_type",
        "phone",
        "confirm",
    }
)
GENERIC_KINDS = frozenset({"text", "choice", "items", "date", "number", "when"})
SLOT_KINDS = SPECIAL_KINDS | GENERIC_KINDS


@dataclass(frozen=True)
class Wording:
    """One sentence with its screen and call variants (equal when the catalog gives one string)."""

    chat: str
    voice: str

    @classmethod
    def of(cls, value: str | dict[str, str] | None) -> Wording | None:
        if value is None:
            return None
        if isinstance(value, dict):
            return cls(str(value["chat"]), str(value.get("voice", value["chat"])))
        return cls(str(value), str(value))


@dataclass(frozen=True)
class SlotSpec:
    name: str
    type: str
    kind: str
    label: str
    agent_label: str
    readback: str | dict[Any, str]  # labelled | description | skip | {value: words}
    ask: Wording | None
    reprompt: Wording | None
    settings: dict[str, Any] = field(default_factory=dict)  # options, words, unit, min, max, range, not_past …

    @property
    def labelled(self) -> bool:
        """Read back as label + value, and a change to it is announced ("好的，地址记为…")."""
        return self.readback == "labelled"


@dataclass(frozen=True)
class FormSpec:
    function_id: str
    slots: tuple[str, ...]  # in asking order, CONFIRM_SLOT last when the form files an order
    files_order: bool
    ask: dict[str, Wording]  # questions this form words its own way
    received: str | None = None  # "已为您登记…" when the order is filed
    promise: str | None = None  # what happens next
    opening_min_chars: int | None = None

    @property
    def name(self) -> str:
        return f"{self.function_id}_form"


@dataclass(frozen=True)
class Function:
    id: str
    name: str
    kind: str
    description: str
    synonyms: tuple[str, ...]
    channels: tuple[str, ...]
    form: FormSpec | None = None
    test: dict[str, Any] | None = None  # a conversation and the order it files (tests/test_catalog_conversations.py)


@dataclass(frozen=True)
class Catalog:
    functions: dict[str, Function]
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    slots: dict[str, SlotSpec] = field(default_factory=dict)

    def name(self, function_id: str) -> str:
        f = self.functions.get(function_id)
        return f.name if f else function_id

    def channel_name(self, channel_id: str) -> str:
        return str(self.channels.get(channel_id, {}).get("name", channel_id))

    def context_slots(self) -> tuple[str, ...]:
        """The form slots an agent sees when a conversation is handed over (proofs and the read-back left out)."""
        return tuple(name for name, s in self.slots.items() if s.readback != "skip")

    def agent_labels(self) -> dict[str, str]:
        return {name: s.agent_label for name, s in self.slots.items()}

    @property
    def forms(self) -> dict[str, FormSpec]:
        """Form name -> its definition, for every function that has a form."""
        return {f.form.name: f.form for f in self.functions.values() if f.form}

    def recommend_channels(
        self, function_id: str, customer_channels: list[str] | None = None, limit: int = 2
    ) -> list[str]:
        """Channel ids for a function: self-service first, the ones the customer already uses before others."""
        f = self.functions.get(function_id)
        if not f:
            return []
        used = set(customer_channels or [])

        def rank(c: str) -> tuple[bool, bool, int]:
            kind = self.channels.get(c, {}).get("kind", "")
            return c not in used, kind not in SELF_SERVICE_KINDS, f.channels.index(c)

        return sorted(f.channels, key=rank)[:limit]


SLOT_KEYS = {"type", "kind", "label", "agent_label", "readback", "ask", "reprompt"}


def _slot(name: str, raw: dict[str, Any]) -> SlotSpec:
    label = str(raw.get("label", name))
    return SlotSpec(
        name,
        str(raw.get("type", "text")),
        str(raw.get("kind", "text")),
        label,
        str(raw.get("agent_label", label)),
        raw.get("readback", "labelled"),
        Wording.of(raw.get("ask")),
        Wording.of(raw.get("reprompt")),
        {k: v for k, v in raw.items() if k not in SLOT_KEYS},
    )


def _form(function_id: str, raw: dict[str, Any]) -> FormSpec:
    files_order = bool(raw.get("files_order", True))
    slots = tuple(raw["slots"]) + ((CONFIRM_SLOT,) if files_order else ())
    done = raw.get("done") or {}
    asks = {slot: w for slot, value in (raw.get("ask") or {}).items() if (w := Wording.of(value))}
    return FormSpec(
        function_id, slots, files_order, asks, done.get("received"), done.get("promise"), raw.get("opening_min_chars")
    )


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    functions = {}
    for f in data["functions"]:
        syns = tuple(dict.fromkeys([*f.get("seed_synonyms", []), *f.get("synonyms", [])]))
        form = _form(f["id"], f["form"]) if f.get("form") else None
        functions[f["id"]] = Function(
            f["id"],
            f["name"],
            f["kind"],
            f.get("description", ""),
            tuple(str(s) for s in syns),
            tuple(f.get("channels", [])),
            form,
            f.get("test"),
        )
    slots = {name: _slot(name, raw) for name, raw in (data.get("slots") or {}).items()}
    return Catalog(functions, data.get("channels", {}), slots)


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return load_catalog()

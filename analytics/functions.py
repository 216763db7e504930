"""Which service functions a contact is about, read from the catalog (catalog/service_functions.yml).

`OUTAGE_FUNCTIONS` is the one definition of an outage-related contact (the customer reports or asks about a
power cut), used by the contact feed and by the surge detection. The ids are checked against the catalog when
this module loads, so a renamed function fails loudly here instead of silently counting nothing."""

from __future__ import annotations

from knowledge.catalog import catalog

# fault_repair: 停电、跳闸、线路故障 (a cut reported); outage_query: 停电范围与恢复时间 (asked about).
# Not arrears_reconnect: a cut for arrears is the customer's own, it says nothing about the grid.
_OUTAGE_IDS = ("fault_repair", "outage_query")
# Functions that say only "a person, please" or "not our business": the main function is another when one is seen
GENERIC_FUNCTIONS = frozenset({"human_agent", "out_of_scope"})


def _checked(ids: tuple[str, ...]) -> frozenset[str]:
    known = catalog().functions
    missing = [f for f in ids if f not in known]
    if missing:
        raise RuntimeError(f"outage-related functions not in the catalog: {missing}")
    return frozenset(ids)


OUTAGE_FUNCTIONS: frozenset[str] = _checked(_OUTAGE_IDS)


def service_function(name: object) -> str | None:
    """The catalog function an intent or a form names (None for dialogue acts: greet, affirm, nlu_fallback...)."""
    if not isinstance(name, str) or not name:
        return None
    name = name.removesuffix("_form")
    return name if name in catalog().functions else None


def main_function(current: str | None, seen: str) -> str:
    """The contact's main function once `seen` is recognised: the first specific one wins over a generic one."""
    if current is None or (current in GENERIC_FUNCTIONS and seen not in GENERIC_FUNCTIONS):
        return seen
    return current

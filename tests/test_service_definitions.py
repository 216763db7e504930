"""Drift between the catalog, the domain, the rules and the form code fails here: every `form`-kind
function has its form, one validation class, a start and a finish rule, a question for every slot in
both channels' sense (chat wording never says 请说 / 没听清), and a read-back label for what it files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import actions  # noqa: F401  (registers the validation classes)
from actions.forms.base import CONFIRM_SLOT, DESCRIPTION_SLOTS, REPROMPTS, SLOT_LABELS, ServiceForm
from knowledge.catalog import catalog

ROOT = Path(__file__).resolve().parent.parent
QUERIES = {"bill_query", "balance_query", "outage_query", "progress_query"}
READ_BACK_PLAIN = {"safety_risk", "tou_action", "phone_last4", "holder_name", CONFIRM_SLOT, *DESCRIPTION_SLOTS}


def merged(folder: str) -> dict:
    out: dict = {}
    for f in sorted((ROOT / folder).rglob("*.yml")):
        for k, v in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).items():
            out[k] = (
                out[k] + v
                if isinstance(v, list) and k in out
                else {**out.get(k, {}), **v}
                if isinstance(v, dict)
                else v
            )
    return out


DOMAIN = merged("bot/domain")
FORM_FUNCTIONS = sorted({f.id for f in catalog().functions.values() if f.kind == "form"} | {"outage_query"})


@pytest.mark.parametrize("function_id", FORM_FUNCTIONS)
def test_each_form_function_is_defined_once_and_completely(function_id):
    form = f"{function_id}_form"
    required = DOMAIN["forms"][form]["required_slots"]
    handler = ServiceForm.registry[form]
    assert handler.function_id == function_id
    assert f"validate_{form}" in DOMAIN["actions"]
    rules = merged("bot/data")["rules"]
    assert any(s.get("intent") == function_id for r in rules for s in r["steps"]), f"no start rule for {form}"
    assert any(any(c.get("active_loop") == form for c in r.get("condition", [])) for r in rules), (
        f"no finish rule for {form}"
    )
    for slot in required:
        asked = {f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"} & set(DOMAIN["responses"]) or {
            f"action_ask_{slot}"
        } & set(DOMAIN["actions"])
        assert asked, f"{form} never asks for {slot}"
        assert slot in DOMAIN["slots"]
        assert slot in SLOT_LABELS or slot in READ_BACK_PLAIN or slot in ("account_no", "bill_month", "order_ref"), slot
    files_order = function_id not in QUERIES
    assert (CONFIRM_SLOT in required) == files_order, f"{form}: orders are read back before filing, queries are not"
    if files_order:
        assert required[-1] == CONFIRM_SLOT


def test_chat_wording_of_the_questions():
    for slot, (chat, _voice) in REPROMPTS.items():
        assert not any(w in chat for w in ("请说", "没听清", "按1", "来电")), slot
    for name, variants in DOMAIN["responses"].items():
        default = [v for v in variants if not v.get("condition")]
        assert default, f"{name} has no default (chat) variant"
        for v in default:
            assert not any(w in v.get("text", "") for w in ("请说", "没听清", "按1", "感谢您的来电")), name

"""The catalog (catalog/service_functions.yml) is the one source of the service functions: the generated files
are exactly what it gives, the domain has every function and nothing the catalog lacks, and Rasa itself finds
the domain and training data consistent (`rasa data validate`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import actions  # noqa: F401  (registers the validation classes)
from actions.forms.base import ServiceForm
from backend.case_view import CONTEXT_SLOTS
from knowledge.catalog import CONFIRM_SLOT, SLOT_KINDS, load_catalog
from scripts import gen_domain

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog()


def domain_files() -> dict[str, dict[str, Any]]:
    return {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        for p in sorted((ROOT / "bot" / "domain").glob("*.yml"))
    }


def merged(key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for data in domain_files().values():
        value = data.get(key) or {}
        out.update(value if isinstance(value, dict) else dict.fromkeys(value))
    return out


def rules() -> list[dict[str, Any]]:
    return [
        r
        for p in sorted((ROOT / "bot" / "data").rglob("*.yml"))
        for r in (yaml.safe_load(p.read_text(encoding="utf-8")) or {}).get("rules") or []
    ]


@pytest.mark.parametrize("path", sorted(gen_domain.generated(CATALOG)), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_files_are_what_the_catalog_gives(path):
    wanted = gen_domain.generated(CATALOG)[path]
    assert path.exists() and path.read_text(encoding="utf-8") == wanted, (
        f"{path.relative_to(ROOT)} differs from the catalog: run `python -m scripts.gen_domain`"
    )
    assert wanted.startswith(gen_domain.HEADER)


def test_every_catalog_function_has_its_intent_form_and_rules():
    intents, forms, all_rules = merged("intents"), merged("forms"), rules()
    for f in CATALOG.functions.values():
        assert f.id in intents, f.id
        starts = [r for r in all_rules if r.get("steps") and r["steps"][0].get("intent") == f.id]
        assert starts, f"no rule starts {f.id}"
        if f.form:
            assert forms[f.form.name]["required_slots"] == list(f.form.slots)
            assert starts[0]["steps"][1] == {"action": f.form.name}
            finish = {"active_loop": f.form.name}
            assert any(finish in r.get("condition", []) for r in all_rules), f"no finish rule: {f.id}"
            assert (f.form.slots[-1] == CONFIRM_SLOT) == f.form.files_order, f"{f.id}: read back before filing"
        elif f.kind == "answer":
            assert starts[0]["steps"][1] == {"action": "action_answer_function"}


def test_every_domain_form_and_form_slot_is_in_the_catalog():
    forms, slots = merged("forms"), merged("slots")
    assert set(forms) == set(CATALOG.forms)
    for form in forms.values():
        assert set(form["required_slots"]) <= set(CATALOG.slots)
    assert set(CATALOG.slots) <= set(slots)
    hand_written = {name: data for name, data in domain_files().items() if name != gen_domain.DOMAIN_FILE.name}
    for name, data in hand_written.items():  # one home: nothing of the catalog's is written by hand as well
        assert not set(data.get("slots") or {}) & set(CATALOG.slots), name
        assert not set(data.get("intents") or []) & set(CATALOG.functions), name
        assert not data.get("forms"), name
        asks = {r for r in data.get("responses") or {} if r.startswith("utter_ask_")}
        assert asks <= {"utter_ask_what_service"}, name


def test_catalog_slots_and_forms_are_complete():
    for name, slot in CATALOG.slots.items():
        assert slot.kind in SLOT_KINDS, f"{name}: unknown kind {slot.kind}"
        assert slot.type in ("text", "bool"), name
        assert slot.ask or name == CONFIRM_SLOT, f"{name} has no question"
        assert slot.readback in ("labelled", "description", "skip") or isinstance(slot.readback, dict), name
    for form in CATALOG.forms.values():
        assert set(form.slots) <= set(CATALOG.slots), form.name
        assert set(form.ask) <= set(form.slots), f"{form.name} words a question for a slot it does not ask"
        handler = ServiceForm.registry[form.name]  # hand-written, or built from the catalog
        assert handler.function_id == form.function_id and handler.name() == f"validate_{form.name}"


def test_agents_see_every_slot_a_form_collects():
    assert set(CATALOG.context_slots()) <= set(CONTEXT_SLOTS)
    assert {"tou_action", "connection_type", "new_phone", "order_ref"} <= set(CONTEXT_SLOTS)


def test_rasa_data_validate_passes():
    rasa = os.environ.get("RASA_PY")
    assert rasa, "run through scripts/with-env.sh (it sets RASA_PY)"
    proc = subprocess.run(
        [
            rasa,
            "-m",
            "rasa",
            "data",
            "validate",
            "--domain",
            "bot/domain",
            "--data",
            "nlu/data",
            "bot/data",
            "--config",
            "config.yml",
            "--fail-on-warnings",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]

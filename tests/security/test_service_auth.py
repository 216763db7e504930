"""Findings 2, 3, 8, 9, 13: the action server and Rasa's HTTP API refuse callers without the shared
secrets, production mode refuses unsafe settings, logs are masked in every process, and type-confused
bodies get a clear 4xx, never a 500. Against the running product where an attack needs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backend.settings import problems

ROOT = Path(__file__).resolve().parents[2]
CRAFTED = {  # what the review sent: a form validation with slots that would change a registered phone
    "next_action": "validate_contact_change_form",
    "version": "3.6.21",
    "tracker": {
        "sender_id": "attacker",
        "slots": {
            "account_no": "3201000002",
            "phone_last4": "0002",
            "verified_account": "3201000002",
            "new_phone": "13800000000",
            "requested_slot": "new_phone",
        },
        "latest_message": {"text": "13800000000", "intent": {"name": "inform"}},
        "events": [],
        "active_loop": {"name": "contact_change_form"},
        "paused": False,
        "latest_event_time": 0,
        "latest_input_channel": "rest",
        "latest_action_name": "action_listen",
    },
    "domain": {"forms": {"contact_change_form": {"required_slots": ["account_no", "phone_last4", "new_phone"]}}},
}


def own_address() -> str | None:
    """An address of this machine other than loopback (None if it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


# --- 2. the action server ----------------------------------------------------------------------------
def test_action_server_refuses_calls_without_the_token(stack, unchanged):
    url = f"http://127.0.0.1:{stack.action_port}/webhook"
    assert requests.post(url, json=CRAFTED, timeout=10).status_code == 401
    assert requests.post(url, json=CRAFTED, headers={"Authorization": "Bearer guess"}, timeout=10).status_code == 401
    crafted_bill = {**CRAFTED, "next_action": "validate_bill_query_form"}
    r = requests.post(url, json=crafted_bill, timeout=10)
    assert r.status_code == 401 and "元" not in r.text


def test_action_server_answers_bad_bodies_without_a_traceback(stack):
    url = f"http://127.0.0.1:{stack.action_port}/webhook"
    auth = {"Authorization": f"Bearer {stack.secrets['P95598_ACTION_TOKEN']}"}
    for body in (b"not json", b"[1, 2]", b'"text"'):
        r = requests.post(url, data=body, headers={**auth, "Content-Type": "application/json"}, timeout=10)
        assert r.status_code == 400 and "Traceback" not in r.text


def test_action_server_listens_on_loopback_only(stack):
    address = own_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((address, stack.action_port)) != 0


# --- 3. Rasa's HTTP API ------------------------------------------------------------------------------
def test_rasa_api_needs_the_token(stack, unchanged):
    sender = "voice:13912340001"
    base = stack.rasa_url
    assert requests.get(f"{base}/conversations/{sender}/tracker", timeout=10).status_code == 401
    inject = [{"event": "slot", "name": "verified_account", "value": "3201000001"}]
    assert requests.post(f"{base}/conversations/{sender}/tracker/events", json=inject, timeout=10).status_code == 401
    trigger = {"name": "fault_repair", "entities": {}}
    assert requests.post(f"{base}/conversations/{sender}/trigger_intent", json=trigger, timeout=10).status_code == 401
    assert requests.post(f"{base}/model/parse", json={"text": "停电了"}, timeout=10).status_code == 401
    assert requests.get(stack.api(f"/conversations/{sender}/tracker"), timeout=10).status_code == 200


def test_injected_verification_slot_reveals_nothing(stack, unchanged):
    """Even with the token, a `verified_account` slot set from outside proves nothing: the proof is in the
    back end, bound to the conversation."""
    sender = f"inject-{os.getpid()}"
    inject = [{"event": "slot", "name": "verified_account", "value": "3201000001"}]
    assert requests.post(stack.api(f"/conversations/{sender}/tracker/events"), json=inject, timeout=10).ok
    r = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": "查余额"}, timeout=60
    )
    said = " ".join(m.get("text", "") for m in r.json())
    assert "元" not in said and ("户号" in said or "后四位" in said)


def test_rasa_cors_allows_only_the_console(stack):
    r = requests.options(
        f"{stack.rasa_url}/model/parse",
        timeout=10,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.headers.get("Access-Control-Allow-Origin") in (None, stack.console_url)
    assert r.headers.get("Access-Control-Allow-Origin") != "*"


# --- 8. logs -----------------------------------------------------------------------------------------
def test_no_process_logs_full_phone_or_account_numbers(stack):
    c = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": f"log-{os.getpid()}", "message": "我的电话是13912345678，户号3201000001"},
    )
    assert c.ok
    for log in stack.var.glob("*.log"):
        content = log.read_text(errors="replace")
        assert "13912345678" not in content and "3201000001" not in content, log.name


def test_rasa_process_masks_its_log_records():
    """scripts.rasa_server installs the masking before Rasa runs (Rasa's own loggers replaced by one that
    logs what Rasa's debug log prints: the user's message)."""
    code = (
        "import logging, rasa.__main__ as rm, scripts.rasa_server as server\n"
        "def fake_rasa():\n"
        "    logging.basicConfig(level=logging.DEBUG, force=True)\n"
        "    logging.getLogger('rasa.core.processor').debug('Received user message 13912345678 3201000001')\n"
        "rm.main = fake_rasa\n"
        "server.main()\n"
    )
    out = subprocess.run(
        [os.environ.get("RASA_PY", sys.executable), "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "P95598_RASA_TOKEN": "t" * 32, "P95598_MODE": ""},
    )
    assert "Received user message" in out.stderr, out.stderr[-800:]
    assert "139****5678" in out.stderr and "13912345678" not in out.stderr and "3201000001" not in out.stderr


# --- 9. production mode ------------------------------------------------------------------------------
SAFE = {
    "P95598_MODE": "production",
    "P95598_RASA_TOKEN": "r" * 32,
    "P95598_ACTION_TOKEN": "a" * 32,
    "P95598_STREAM_SECRET": "s" * 32,
    "P95598_DEMO_AGENTS": "0",
    "P95598_RASA_CORS": "https://kf.example.cn",
}


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"P95598_DEMO_AGENTS": "1"}, "demo console logins"),
        ({"P95598_DEMO_PASSWORD": "95598demo"}, "P95598_DEMO_PASSWORD"),
        ({"P95598_RASA_TOKEN": ""}, "P95598_RASA_TOKEN"),
        ({"P95598_ACTION_TOKEN": "changeme"}, "P95598_ACTION_TOKEN"),
        ({"P95598_STREAM_SECRET": "short"}, "P95598_STREAM_SECRET"),
        ({"P95598_ACTION_HOST": "0.0.0.0"}, "action server"),
        ({"P95598_RASA_CORS": "*"}, "P95598_RASA_CORS"),
    ],
)
def test_production_mode_refuses_unsafe_settings(change, complaint):
    assert problems(SAFE) == []
    found = problems({**SAFE, **change})
    assert any(complaint in p for p in found), found
    assert problems({**SAFE, **change, "P95598_MODE": ""}) == []  # development is not held to it


@pytest.mark.parametrize("module", [["actions.server"], ["console", "serve"], ["scripts.stack", "run"]])
def test_processes_refuse_to_start_in_production_with_demo_logins(module, tmp_path):
    env = {
        **os.environ,
        **SAFE,
        "P95598_DEMO_AGENTS": "1",
        "P95598_VAR": str(tmp_path),
        "P95598_DB_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-m", *module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode != 0 and "production mode refuses" in (out.stderr + out.stdout), out.stderr[-500:]


# --- 13. type-confused bodies ------------------------------------------------------------------------
def test_type_confused_bodies_get_a_clear_answer(stack):
    assert requests.post(stack.api("/model/parse"), json={"text": 123}, timeout=30).status_code < 500
    k = f"http://127.0.0.1:{stack.knowledge_port}/match"
    for channels in ({"a": 1}, [{"x": 1}], "app", [1, 2]):
        r = requests.post(k, json={"text": "停电了", "customer_channels": channels}, timeout=30)
        assert r.status_code == 400, (channels, r.status_code)
    for body in (
        {"sender": "tc", "message": "你好", "metadata": "zzz"},
        {"sender": "tc", "message": 123},
        {"sender": "tc", "message": "你好", "metadata": [1]},
    ):
        r = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        assert r.status_code == 200 and isinstance(r.json(), list), (body, r.status_code)
    log = (stack.var / "actions.log").read_text(errors="replace")
    assert "Traceback" not in log

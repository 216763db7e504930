"""The knowledge client against a real HTTP server: a refused request (4xx) leaves the service in use, a failure
(5xx, no answer) rests it for `retry_after` seconds."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from channels.knowledge import KnowledgeClient


class _Service(BaseHTTPRequestHandler):
    statuses: list[int] = []  # what the next requests are answered with
    seen = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen += 1
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        body = json.dumps({"decision": "match", "functions": [{"function": "fault_repair", "score": 0.9}]})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode() if status == 200 else b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[str]:
    _Service.statuses, _Service.seen = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_refused_request_does_not_rest_the_service(service: str) -> None:
    client = KnowledgeClient(service, timeout=2, retry_after=30)
    _Service.statuses = [413]
    assert client.match("停电" * 10_000) is None
    assert client.functions("我家停电了")[0]["function"] == "fault_repair"  # asked again at once
    assert _Service.seen == 2


def test_a_failing_service_rests_then_is_asked_again(service: str) -> None:
    client = KnowledgeClient(service, timeout=2, retry_after=30)
    _Service.statuses = [500]
    assert client.match("我家停电了") is None
    assert client.match("我家停电了") is None and _Service.seen == 1  # resting: not asked
    client.retry_after = 0
    assert client.functions("我家停电了")[0]["function"] == "fault_repair" and _Service.seen == 2

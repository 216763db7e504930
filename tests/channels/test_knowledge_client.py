"""The knowledge client against a real HTTP server: a refused request (4xx) leaves the service in use, a failure
(5xx, no answer) rests it for `retry_after` seconds, and calls from one thread share one open connection."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from channels.knowledge import KnowledgeClient


class _Service(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open for the next request, as the aiohttp service does
    statuses: list[int] = []  # what the next requests are answered with
    seen = 0
    connections = 0
    drop_second = False  # close a connection without answering its second request (an idle timeout in flight)

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1
        self.served = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.served += 1
        if type(self).drop_second and self.served == 2:
            self.close_connection = True
            return
        type(self).seen += 1
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        body = json.dumps({"decision": "match", "functions": [{"function": "fault_repair", "score": 0.9}]})
        self.send_response(status)
        payload = body.encode() if status == 200 else b"{}"
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[str]:
    _Service.statuses, _Service.seen, _Service.connections, _Service.drop_second = [], 0, 0, False
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


def test_calls_from_one_thread_share_one_connection(service: str) -> None:
    client = KnowledgeClient(service, timeout=2)
    for _ in range(3):
        assert client.functions("我家停电了")[0]["function"] == "fault_repair"
    assert _Service.seen == 3 and _Service.connections == 1
    other = threading.Thread(target=client.functions, args=("电费多少",))
    other.start()
    other.join()
    assert _Service.seen == 4 and _Service.connections == 2  # another thread: its own connection


def test_a_connection_closed_as_it_is_reused_is_replaced_not_taken_for_a_service_down(service: str) -> None:
    client = KnowledgeClient(service, timeout=2, retry_after=30)
    _Service.drop_second = True
    assert client.functions("我家停电了")[0]["function"] == "fault_repair"
    assert client.functions("我家停电了")[0]["function"] == "fault_repair"  # dropped once, asked again at once
    assert _Service.seen == 2 and _Service.connections == 2
    assert client.functions("电费多少")  # not resting

"""Shared fixtures: a seeded scratch back end, and the whole product running on free ports."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from backend.cis import SqlCIS
from backend.contact_centre import AgentRole, ContactStore
from backend.contact_centre.demo import DEMO_AGENTS as DEMO_ACCOUNTS
from backend.db import make_engine, make_sessionmaker, open_database, upgrade
from backend.synthetic import seed

pytest_plugins = ("tests.markers", "pytester")  # test kinds (unit/stack/scale/browser) and CI's no-skip rule

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WECHAT_TOKEN = "test-wechat-token"
DEMO_PASSWORD = "demo-pass-95598"


DEMO_AGENTS = tuple(username for username, _, role in DEMO_ACCOUNTS if role != AgentRole.QUALITY)  # those offered cases


def demo_agents_offline(store: ContactStore, log_out: bool = False, usernames: tuple[str, ...] = DEMO_AGENTS) -> None:
    """The demo agents no longer seen online (heartbeat cleared), or with `log_out` logged out (离线, offers
    withdrawn), so the next test's customers are not offered to them."""
    for username in usernames:
        agent = store.agent_by_username(username)
        if agent:
            if log_out:
                store.go_offline(agent.id)
            else:
                store.heartbeat(agent.id, online=False)


PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _postgres_url():
    name = f"p95598_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
    except Exception as e:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({e.__class__.__name__})")
    return admin, name, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
        upgrade(engine)
        yield make_sessionmaker(engine)
        engine.dispose()
        return
    admin, name, url = _postgres_url()
    engine = make_engine(url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
def seeded_db_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'backend.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=2000)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def cis(seeded_db_url) -> SqlCIS:
    return SqlCIS(make_sessionmaker(make_engine(seeded_db_url)))


@pytest.fixture(scope="session")
def stack(tmp_path_factory, seeded_db_url):
    """Rasa server + action server + knowledge service, sharing the seeded scratch database."""
    from scripts.stack import Stack, ensure_model, free_port

    var = tmp_path_factory.mktemp("stack")
    s = Stack(
        var=var,
        rasa_port=free_port(),
        action_port=free_port(),
        knowledge_port=free_port(),
        db_url=seeded_db_url,
        console_port=free_port(),
        extra_env={
            "P95598_WECHAT_TOKEN": WECHAT_TOKEN,
            "P95598_DEMO_PASSWORD": DEMO_PASSWORD,
            "P95598_TRUSTED_PROXIES": "127.0.0.1",
        },
    )  # tests play clients behind our proxy
    try:
        s.start(ensure_model())
        s.wait_ready()
        os.environ["P95598_RASA_TOKEN"] = s.rasa_token  # this process is a client of that stack (gateways, tools)
        yield s
    except Exception:
        for log in sorted(var.glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        s.stop()


@pytest.fixture
def contact(seeded_db_url) -> ContactStore:
    """The contact-centre store of the stack's database (agents, presence, cases)."""
    return ContactStore(make_sessionmaker(make_engine(seeded_db_url)))


@pytest.fixture
def nobody_online(contact):
    """Presence is shared by the whole test session: every demo agent offline before and after the test, so a
    customer is never offered to an agent another test left online."""
    demo_agents_offline(contact)
    yield
    demo_agents_offline(contact)


class Conversation:
    """One customer talking to the bot over the REST channel."""

    def __init__(self, base_url: str, metadata: dict | None = None):
        self.url = f"{base_url}/webhooks/rest/webhook"
        self.sender = f"test-{uuid.uuid4().hex[:10]}"
        self.metadata = metadata or {"channel": "chat"}
        self.replies: list[dict] = []

    def say(self, text: str) -> str:
        r = requests.post(
            self.url, json={"sender": self.sender, "message": text, "metadata": self.metadata}, timeout=60
        )
        r.raise_for_status()
        self.replies = r.json()
        return "\n".join(m.get("text", "") for m in self.replies)

    @property
    def replies_text(self) -> str:
        return "\n".join(m.get("text", "") for m in self.replies)

    @property
    def buttons(self) -> list[dict]:
        return [b for m in self.replies for b in m.get("buttons", [])]


@pytest.fixture
def conversation(stack):
    return lambda **kw: Conversation(stack.rasa_url, **kw)


def pytest_configure(config):
    ARTIFACTS.mkdir(exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def browser():
    """Debian chromium through Playwright (one per test); skipped where it is not installed (a failure in CI)."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (scripts/bootstrap.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()

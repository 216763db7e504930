"""Each process's one configuration object: built from the environment, checked when built, frozen."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress

import pytest

from actions.config import ActionServerConfig
from actions.config import ConfigError as ActionsConfigError
from backend.config import BackendConfig
from backend.config import ConfigError as BackendConfigError
from console.config import ConfigError as ConsoleConfigError
from console.config import ConsoleConfig
from knowledge.config import ConfigError as KnowledgeConfigError
from knowledge.config import KnowledgeConfig

DB = {"P95598_DB_URL": "sqlite:////tmp/p95598-config-test.db"}


def test_console_settings_come_from_the_environment_once() -> None:
    cfg = ConsoleConfig.from_env(
        {
            **DB,
            "P95598_RASA_URL": "http://rasa:5005/",
            "P95598_RASA_TOKEN": "t" * 32,
            "P95598_SESSION_MINUTES": "30",
            "P95598_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "P95598_PROFILE": "scale",
            "P95598_REDIS_URL": "redis://r:6379/0",
        }
    )
    assert cfg.rasa_url == "http://rasa:5005" and cfg.rasa_token == "t" * 32
    assert cfg.session_ttl == dt.timedelta(minutes=30) and cfg.redis_url == "redis://r:6379/0"
    assert ipaddress.ip_address("10.1.2.3") in cfg.trusted_proxies[0] and len(cfg.trusted_proxies) == 2
    assert ConsoleConfig.from_env({**DB, "P95598_REDIS_URL": "redis://r"}).redis_url == ""  # embedded profile
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rasa_url = "http://elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(
    "change",
    [
        {"P95598_SESSION_MINUTES": "forever"},
        {"P95598_SESSION_MINUTES": "0"},
        {"P95598_RASA_URL": "rasa:5005"},
        {"P95598_TRUSTED_PROXIES": "10.0.0.0/8, the-ingress"},
        {"P95598_WECHAT_APPID": "wx123"},
        {"P95598_DB_URL": "backend.db"},
        {"P95598_PROFILE": "scale", "P95598_REDIS_URL": "localhost:6379"},
    ],
)
def test_console_refuses_settings_it_cannot_use(change: dict[str, str]) -> None:
    with pytest.raises(ConsoleConfigError):
        ConsoleConfig.from_env({**DB, **change})


def test_action_server_needs_its_token_and_checks_its_urls() -> None:
    cfg = ActionServerConfig.from_env({**DB, "P95598_ACTION_TOKEN": "a" * 32, "P95598_KNOWLEDGE_URL": ""}, port=6000)
    assert cfg.port == 6000 and cfg.host == "127.0.0.1" and cfg.services.knowledge_url == ""
    assert cfg.services.db_url == DB["P95598_DB_URL"]
    with pytest.raises(ActionsConfigError, match="P95598_ACTION_TOKEN"):
        ActionServerConfig.from_env(DB)
    with pytest.raises(ActionsConfigError, match="P95598_KNOWLEDGE_URL"):
        ActionServerConfig.from_env({**DB, "P95598_ACTION_TOKEN": "a" * 32, "P95598_KNOWLEDGE_URL": "kb:5056"})


def test_knowledge_service_settings() -> None:
    cfg = KnowledgeConfig.from_env({"EMBED_MODEL_DIR": "/models/e5", "P95598_CACHE": "/cache", "EMBED_THREADS": "2"})
    assert str(cfg.index_dir) == "/cache/indexes" and cfg.embed_threads == 2 and cfg.embed_backend is None
    assert str(KnowledgeConfig.from_env({"EMBED_MODEL_DIR": "/m", "P95598_INDEX_DIR": "/ix"}).index_dir) == "/ix"
    bad_settings: tuple[dict[str, str], ...] = (
        {},
        {"EMBED_MODEL_DIR": "/m", "EMBED_BACKEND": "tensorflow"},
        {"EMBED_MODEL_DIR": "/m", "EMBED_THREADS": "x"},
    )
    for bad in bad_settings:
        with pytest.raises(KnowledgeConfigError):
            KnowledgeConfig.from_env(bad)


def test_the_set_up_never_makes_demo_logins_in_production() -> None:
    assert BackendConfig.from_env({**DB}).demo_agents
    assert not BackendConfig.from_env({**DB, "P95598_MODE": "production", "P95598_DEMO_AGENTS": "0"}).demo_agents
    with pytest.raises(BackendConfigError, match="P95598_DEMO_AGENTS=0"):
        BackendConfig.from_env({**DB, "P95598_MODE": "production"})
    with pytest.raises(BackendConfigError):
        BackendConfig.from_env({**DB, "P95598_DEMO_PASSWORD": "short"})

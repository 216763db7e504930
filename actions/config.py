"""The action server's settings: one typed object, read from the environment once, checked when built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from backend.db import database_url

DEFAULT_KNOWLEDGE_URL = "http://127.0.0.1:5056"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ServicesConfig:
    """What the actions talk to: the back end's database and the knowledge service ('' = local articles only)."""

    db_url: str
    knowledge_url: str = DEFAULT_KNOWLEDGE_URL

    def __post_init__(self) -> None:
        if "://" not in self.db_url:
            raise ConfigError(f"P95598_DB_URL must be an SQLAlchemy URL, got {self.db_url!r}")
        if self.knowledge_url and not self.knowledge_url.startswith(("http://", "https://")):
            raise ConfigError(f"P95598_KNOWLEDGE_URL must be an http(s) URL, got {self.knowledge_url!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServicesConfig:
        env = os.environ if env is None else env
        return cls(
            db_url=env.get("P95598_DB_URL") or database_url(),
            knowledge_url=env.get("P95598_KNOWLEDGE_URL", DEFAULT_KNOWLEDGE_URL),
        )


@dataclass(frozen=True)
class ActionServerConfig:
    token: str  # P95598_ACTION_TOKEN: Rasa sends it; requests without it are refused
    host: str = "127.0.0.1"  # P95598_ACTION_HOST; `private`: this pod's own address
    port: int = 5055
    services: ServicesConfig = field(default_factory=lambda: ServicesConfig(database_url()))

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError("P95598_ACTION_TOKEN is not set (make run / make test set it)")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be 1-65535, got {self.port}")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, host: str | None = None, port: int | None = None
    ) -> ActionServerConfig:
        env = os.environ if env is None else env
        return cls(
            token=env.get("P95598_ACTION_TOKEN", ""),
            host=host or env.get("P95598_ACTION_HOST", "127.0.0.1"),
            port=port or 5055,
            services=ServicesConfig.from_env(env),
        )

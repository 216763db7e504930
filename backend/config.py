"""The set-up's settings (`python -m backend`): which database, and whether it gets demo console logins."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from backend.contact_centre.demo import DEFAULT_DEMO_PASSWORD
from backend.db import database_url
from backend.settings import production


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BackendConfig:
    db_url: str
    production: bool = False
    demo_agents: bool = True  # demo console logins in a database without agents (never in production)
    demo_password: str = DEFAULT_DEMO_PASSWORD

    def __post_init__(self) -> None:
        if "://" not in self.db_url:
            raise ConfigError(f"P95598_DB_URL must be an SQLAlchemy URL, got {self.db_url!r}")
        if self.production and self.demo_agents:
            raise ConfigError("production has no demo console logins: set P95598_DEMO_AGENTS=0")
        if self.demo_agents and len(self.demo_password) < 8:
            raise ConfigError("P95598_DEMO_PASSWORD must have at least 8 characters")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, db_url: str | None = None) -> BackendConfig:
        env = os.environ if env is None else env
        return cls(
            db_url=db_url or env.get("P95598_DB_URL") or database_url(),
            production=production(dict(env)),
            demo_agents=env.get("P95598_DEMO_AGENTS", "1") != "0",
            demo_password=env.get("P95598_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD,
        )

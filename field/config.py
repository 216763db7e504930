"""The field app's settings and the objects its handlers share (one `FieldDesk` under the app key FIELD)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from backend.db import REPO
from backend.workorders import WorkOrders
from console.auth import LoginThrottle
from console.config import Network
from field.logins import FieldLogins
from field.orders import FieldOrders
from field.photos import PhotoStore

MAX_PHOTO_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class FieldSettings:
    uploads: Path  # photos live under <uploads>/orders/<number>/
    session_ttl: dt.timedelta = dt.timedelta(hours=12)  # a shift
    secure_cookies: bool = False
    trusted_proxies: tuple[Network, ...] = ()
    max_photo_bytes: int = MAX_PHOTO_BYTES

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, secure_cookies: bool = False, proxies: tuple[Network, ...] = ()
    ) -> FieldSettings:
        """P95598_UPLOADS (default: <P95598_VAR or var>/uploads) and P95598_FIELD_SESSION_HOURS (12)."""
        env = os.environ if env is None else env
        var = Path(env.get("P95598_VAR") or REPO / "var")
        try:
            hours = float(env.get("P95598_FIELD_SESSION_HOURS", "12"))
        except ValueError:
            raise ValueError("P95598_FIELD_SESSION_HOURS must be a number of hours") from None
        if hours <= 0:
            raise ValueError("P95598_FIELD_SESSION_HOURS must be positive")
        return cls(
            uploads=Path(env.get("P95598_UPLOADS") or var / "uploads"),
            session_ttl=dt.timedelta(hours=hours),
            secure_cookies=secure_cookies,
            trusted_proxies=proxies,
        )


@dataclass
class FieldDesk:
    """Everything a field handler needs: the database's orders and logins, the photo store, the login throttle."""

    sessions: sessionmaker[Session]
    settings: FieldSettings
    orders: WorkOrders = field(init=False)
    logins: FieldLogins = field(init=False)
    photos: PhotoStore = field(init=False)
    board: FieldOrders = field(init=False)  # what the page shows
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    def __post_init__(self) -> None:
        self.orders = WorkOrders(self.sessions)
        self.logins = FieldLogins(self.sessions)
        self.photos = PhotoStore(self.settings.uploads, self.settings.max_photo_bytes)
        self.board = FieldOrders(self.sessions)


FIELD = web.AppKey("field", FieldDesk)

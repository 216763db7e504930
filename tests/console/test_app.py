"""The console app's life: what it opens when it starts and closes when it stops (no Rasa needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from backend.contact_centre import ContactStore
from backend.db import open_database
from console.app import create_app
from console.config import CONTACT, HTTP, HUB, WECHAT, ConsoleConfig


def test_the_app_opens_its_resources_at_start_closes_them_at_the_end_and_makes_no_logins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine, _ = open_database(url)
    engine.dispose()
    app = create_app(ConsoleConfig(db_url=url, rasa_url="http://127.0.0.1:9"))

    async def scenario() -> None:
        async with TestClient(TestServer(app)) as client:
            assert (await client.get("/health")).status == 200
            assert isinstance(app[CONTACT], ContactStore) and app[HUB].contact is app[CONTACT]
            assert app[WECHAT].hub is app[HUB]
            assert (await client.get("/console/api/queue")).status == 401  # no session
            assert (await client.get("/wechat")).status == 503  # no WeChat token configured
            assert app[CONTACT].agent_count() == 0  # demo logins are the set-up's business, not the app's
        assert app[HTTP].closed

    asyncio.run(scenario())

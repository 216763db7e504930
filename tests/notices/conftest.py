"""A scratch back end (migrated SQLite) with one area and customers on each kind of channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.db import make_engine, make_sessionmaker, upgrade

NOON = dt.datetime(2026, 12, 4, 4, 0)  # 12:00 in Shanghai (UTC+8)
CUSTOMERS = {  # account -> phone; the first is bound to WeChat
    "3299000001": "13900000001",  # WeChat binding (verified in a bound conversation)
    "3299000002": "13900000002",  # mobile -> SMS
    "3299000003": "02584000003",  # landline -> call
    "3299000004": "",  # nothing -> skipped
}


def add_customers(s: Session, area: str = "T01", customers: dict[str, str] | None = None) -> None:
    if s.get(m.Area, area) is None:
        s.add(m.Area(code=area, name=f"测试网格{area}", district="城东区", streets=[]))
        s.flush()
    for account, phone in (customers or CUSTOMERS).items():
        s.add(
            m.Customer(
                account_no=account,
                name="测试",
                id_number_masked="x",
                phone=phone,
                address="城东区测试路1号",
                area_code=area,
            )
        )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        add_customers(s)
        s.add(m.ChannelBinding(channel_user="wechat:oOPENID1", conversation_id="conv-1"))
        s.add(m.Verification(conversation_id="conv-1", account_no="3299000001", method="last4", strength=1))
    yield sessions
    engine.dispose()

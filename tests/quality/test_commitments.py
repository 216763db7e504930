"""What the back end records of a promise to get back to the customer (quality.commitments), on a real SQLite
database: a told customer's restoration notice, an order's first step."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from backend import models as m
from backend.models_analytics import Contact
from backend.models_notices import Audience, NoticeKind, NoticeStatus, OutboundNotice
from quality.commitments import restoration_of
from tests.analytics.test_feed import backend

T = dt.datetime(2026, 12, 4, 8, 0)


def test_a_told_known_customer_is_owed_the_restoration_notice_and_an_anonymous_one_nothing(tmp_path: Path) -> None:
    sessions = backend(tmp_path / "b.db")
    with sessions.begin() as s:
        area_code = "A01"  # 城东区一网格, made by the fixture
        outage = m.Outage(
            area_code=area_code, kind="fault", start=T, expected_end=T + dt.timedelta(hours=3), reason="线路故障"
        )
        s.add(outage)
        told = Contact(
            contact_key="k1",
            conversation_id="c1",
            channel="chat",
            area_code=area_code,
            account_no="3201000001",
            started_at=T + dt.timedelta(minutes=10),
            ended_at=T + dt.timedelta(minutes=12),
            told_outage=True,
        )
        anonymous = Contact(
            contact_key="k2",
            conversation_id="c2",
            channel="chat",
            area_code=area_code,
            account_no=None,
            started_at=T + dt.timedelta(minutes=10),
            ended_at=T + dt.timedelta(minutes=12),
            told_outage=True,
        )
        s.add_all([told, anonymous])
        s.flush()
        origin = told.started_at.replace(tzinfo=dt.timezone.utc).timestamp()
        owed = restoration_of(s, told, origin)
        assert owed is not None and owed.done_at is None
        assert owed.due_at == (outage.expected_end + dt.timedelta(hours=2) - told.started_at).total_seconds()
        assert restoration_of(s, anonymous, origin) is None  # the bot promises nothing it cannot keep
        s.add(
            OutboundNotice(
                key=f"{NoticeKind.RESTORATION}:{outage.id}",
                recipient_key="3201000001",
                kind=NoticeKind.RESTORATION,
                audience=Audience.CUSTOMER,
                account_no="3201000001",
                channel="sms",
                status=NoticeStatus.SENT,
                created_at=T + dt.timedelta(hours=3, minutes=5),
            )
        )
        s.flush()
        kept = restoration_of(s, told, origin)
        assert kept is not None and kept.done_at is not None and kept.done_at < kept.due_at

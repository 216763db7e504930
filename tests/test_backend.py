"""The CIS stand-in on real SQLite and real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

from backend import models as m
from backend.cis import SqlCIS
from backend.db import open_database
from backend.synthetic import DEMO_CUSTOMERS, counts, seed
from backend.workorders import lifecycle


def test_seed_is_deterministic_and_large_enough(tmp_path):
    day, now = dt.date(2026, 11, 23), dt.datetime(2026, 11, 23, 2, 0)
    a = open_database(f"sqlite:///{tmp_path / 'a.db'}")[1]
    b = open_database(f"sqlite:///{tmp_path / 'b.db'}")[1]
    ca, cb = seed(a, today=day, now=now), seed(b, today=day, now=now)
    assert ca == cb
    assert ca["customers"] >= 2000 and ca["areas"] >= 20 and ca["bills"] == 12 * ca["customers"]
    assert ca["outages"] >= 5
    ra = SqlCIS(a)
    some = ra.find_customer_by_phone(DEMO_CUSTOMERS[0][2])
    assert some and some.account_no == DEMO_CUSTOMERS[0][0]
    with a() as s1, b() as s2:
        first = lambda s: [
            (c.account_no, c.phone, c.address) for c in s.query(m.Customer).order_by(m.Customer.account_no).limit(50)
        ]
        assert first(s1) == first(s2)
    assert ra.get_bill("3201000001", "2026-10").month == "2026-10"
    assert ra.get_bill("3201000001", "2025-10") is None  # only the last 12 months


def test_customer_lookup_identity_and_areas(sessions):
    seed(sessions, customers=300)
    cis = SqlCIS(sessions)
    c = cis.get_customer("3201000001")
    assert c.name == "王建国" and c.area_code == "A01" and c.surname == "王"
    assert cis.verify_identity("3201000001", "0001")
    assert not cis.verify_identity("3201000001", "9999")
    assert not cis.verify_identity("0000000000", "0001")
    assert cis.get_customer("not-an-account") is None
    assert cis.find_area("城东区和平路12号") == ("A01", "城东区一网格")
    assert cis.find_area("火星上的某个地方") is None
    assert any(o.area_code == "A01" and o.kind == "fault" for o in cis.active_outages())
    assert cis.active_outages("A05") == []
    assert cis.get_balance("3201000002") < 0  # prepaid customer in arrears


def test_work_orders_are_idempotent_and_keep_history(sessions):
    seed(sessions, customers=100)
    cis = SqlCIS(sessions)
    o1 = cis.create_work_order(
        "fault_repair",
        "chat",
        {"address": "和平路12号"},
        account_no="3201000001",
        conversation_id="c1",
        idempotency_key="c1:fault_repair:3",
    )
    o2 = cis.create_work_order("fault_repair", "chat", {"address": "和平路12号"}, idempotency_key="c1:fault_repair:3")
    assert o1.number == o2.number and o1.number.startswith("G") and len(o1.number) == 12
    o3 = cis.create_work_order("complaint", "voice", {"details": "抢修太慢"})
    assert o3.number != o1.number
    got = cis.get_work_order(o1.number.lower())  # taken in, then dispatched to the area's team at once
    assert [h[0] for h in got.history] == ["received", "dispatched"] and got.status_label == "已派单"
    assert got.team == "城东区一网格供电服务班" and got.assignee and got.due_at is not None
    cis.update_work_order(o1.number, "dispatched", "客户补充：楼道也没电")  # same status: a note
    assert [h[0] for h in cis.get_work_order(o1.number).history] == ["received", "dispatched", "dispatched"]
    assert [o.number for o in cis.open_work_orders("3201000001")] == [o1.number]
    assert counts(sessions)["work_orders"] == 2


def test_an_order_number_carries_the_day_the_customer_was_told(sessions):
    """At 01:30 in Shanghai (17:30 UTC the day before) the order is numbered, and told, with the Shanghai day."""
    assert lifecycle.order_number(123, dt.datetime(2026, 12, 5, 17, 30)) == "G26120600123"
    assert lifecycle.order_number(100123, dt.datetime(2026, 12, 5, 15, 59)) == "G26120500123"
    seed(sessions, customers=10)
    order = SqlCIS(sessions).create_work_order("fault_repair", "chat", {"address": "和平路12号"})
    with sessions() as s:
        row = s.query(m.WorkOrder).filter_by(number=order.number).one()
        assert order.number == lifecycle.order_number(row.id, row.created_at)


def test_concurrent_creates_with_one_key_make_one_order(tmp_path):
    sessions = open_database(f"sqlite:///{tmp_path / 'c.db'}")[1]
    seed(sessions, customers=50)
    cis = SqlCIS(sessions)
    numbers, errors = [], []

    def create():
        try:
            numbers.append(cis.create_work_order("fault_repair", "chat", {}, idempotency_key="same-key").number)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(numbers)) == 1
    assert counts(sessions)["work_orders"] == 1


def test_reseeding_keeps_work_orders(tmp_path):
    sessions = open_database(f"sqlite:///{tmp_path / 'd.db'}")[1]
    seed(sessions, customers=50)
    cis = SqlCIS(sessions)
    order = cis.create_work_order("fault_repair", "chat", {"x": 1}, account_no="3201000001")
    seed(sessions, customers=50)
    assert cis.get_work_order(order.number) is not None


def test_a_burst_of_threads_reuses_sqlite_connections(tmp_path):
    """The console and actions reach SQLite from the default thread pool (up to 6 threads on 2 cores): each burst
    reuses the pooled connections instead of opening (and setting pragmas on) new ones for every query."""
    from sqlalchemy import event, text

    from backend.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    barrier = threading.Barrier(8)

    def query() -> None:
        with engine.connect() as c:
            barrier.wait(timeout=10)  # all 8 hold a connection at once
            c.execute(text("SELECT 1"))

    for _ in range(3):
        threads = [threading.Thread(target=query) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    assert len(opened) == 8

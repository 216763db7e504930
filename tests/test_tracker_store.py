"""The embedded profile's tracker store (nlu/tracker_store.py): SQLite in WAL mode, and a Rasa server killed
with -9 in the middle of a form goes on from the stored conversation after a restart."""

from __future__ import annotations

import sqlite3

import requests

from tests.conftest import Conversation


def test_tracker_store_is_wal_and_a_killed_rasa_loses_no_turn(stack):
    c = Conversation(stack.rasa_url)
    assert "地址" in c.say("我家停电了")
    assert "电话" in c.say("城西区建设路45号")
    with sqlite3.connect(stack.var / "tracker.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stack.kill("rasa")
    stack.restart("rasa")
    stack.wait_ready(only=("rasa",))
    assert "核对" in c.say("13912340002")  # the form goes on where it was
    tracker = requests.get(stack.api(f"/conversations/{c.sender}/tracker"), timeout=10).json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [
        "我家停电了",
        "城西区建设路45号",
        "13912340002",
    ]

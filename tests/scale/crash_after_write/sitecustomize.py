"""Fault injection for tests/scale/test_durability.py, never loaded by the product: a process started with this
folder first on PYTHONPATH imports it at start-up (Python's `sitecustomize` hook) and kills itself with SIGKILL
right after the first commit that wrote a new work order, before it can answer."""

from __future__ import annotations

import os
import signal
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

WROTE_AN_ORDER = "crash_after_write.wrote_an_order"


@event.listens_for(Session, "after_flush")
def _note_new_order(session: Session, flush_context: Any) -> None:
    if any(getattr(obj, "__tablename__", None) == "work_orders" for obj in session.new):
        session.info[WROTE_AN_ORDER] = True


@event.listens_for(Session, "after_commit")
def _die_once_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released (the order's notices): not in the database yet
        return
    if session.info.pop(WROTE_AN_ORDER, False):
        os.kill(os.getpid(), signal.SIGKILL)

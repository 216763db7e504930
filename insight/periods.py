"""Billing periods ('YYYY-MM'): the one home of period arithmetic and of when a bill counts as in arrears."""

from __future__ import annotations

import datetime as dt

ARREARS_GRACE_DAYS = 15  # a bill still unpaid this many days after its due date is in arrears (欠费)


def shift(period: str, months: int) -> str:
    y, m = int(period[:4]), int(period[5:7])
    n = y * 12 + (m - 1) + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def span(first: str, last: str) -> list[str]:
    """Every period from first to last, both included."""
    out, p = [], first
    while p <= last:
        out.append(p)
        p = shift(p, 1)
    return out


def start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def end(period: str) -> dt.date:
    """The last day of the period."""
    return start(shift(period, 1)) - dt.timedelta(days=1)


def of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"

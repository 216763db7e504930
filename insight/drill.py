"""Drill-down from a hot spot (a line, 台区 or area) to what lies behind it: its 台区 or lines, its fault outages
and the contacts of its customers from the Parquet history (DuckDB through insight/engine.py), and the product's
own work orders for customers there (the database). Every list is one bounded page with its total.

The topology comes from the history (it also covers generated datasets the product's CIS does not know), else from
the product's CIS tables, so the work orders can be shown without a history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
from ibis.expr.types import BooleanValue, Table
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from analytics.kpis_range import to_local
from backend import models as m
from backend.pii import mask
from backend.workorders.states import OrderStatus
from insight.engine import Dataset, open_dataset
from insight.jobs.hotspots import Window
from knowledge.catalog import catalog

CONTACT_CHANNELS = {"phone": "电话", "chat": "在线客服", "wechat": "微信", "app": "网上国网"}
OUTAGE_KINDS = {"fault": "故障停电", "planned": "计划停电"}
NO_HISTORY = "暂无历史明细数据，请先运行分析。"


class HistoryMissing(Exception):
    """No Parquet history where the console looks for it (said politely, not an error page)."""


@dataclass(frozen=True)
class Scope:
    """A line, 台区 or area and the lines and 台区 under it."""

    level: str
    code: str
    name: str
    area_code: str
    line_codes: tuple[str, ...]
    tq_codes: tuple[str, ...]
    line_code: str = ""  # a 台区's line

    def json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "name": self.name,
            "area_code": self.area_code,
            "line_code": self.line_code,
            "lines": len(self.line_codes),
            "districts": len(self.tq_codes),
        }


def open_history(directory: Path) -> Dataset:
    if not directory.is_dir():
        raise HistoryMissing(NO_HISTORY)
    try:
        return open_dataset(directory, "duckdb")
    except FileNotFoundError:
        raise HistoryMissing(NO_HISTORY) from None


def _rows(expr: Table) -> list[dict[str, Any]]:
    return list(expr.to_pandas().to_dict("records"))


def history_scope(ds: Dataset, level: str, code: str) -> Scope | None:
    lines, tqs = ds["lines"], ds["districts"]
    if level == "line":
        found = _rows(lines.filter(lines.line_code == code).limit(1))
        if not found:
            return None
        under = tqs.filter(tqs.line_code == code).tq_code.to_pandas().tolist()
        return Scope(level, code, found[0]["line_name"], found[0]["area_code"], (code,), tuple(sorted(under)))
    if level == "tq":
        found = _rows(tqs.filter(tqs.tq_code == code).limit(1))
        if not found:
            return None
        f = found[0]
        return Scope(level, code, f["tq_name"], f["area_code"], (f["line_code"],), (code,), f["line_code"])
    areas = ds["areas"]
    found = _rows(areas.filter(areas.area_code == code).limit(1))
    if not found:
        return None
    under_lines = lines.filter(lines.area_code == code).line_code.to_pandas().tolist()
    under_tqs = tqs.filter(tqs.area_code == code).tq_code.to_pandas().tolist()
    return Scope(level, code, found[0]["area_name"], code, tuple(sorted(under_lines)), tuple(sorted(under_tqs)))


def product_scope(s: Session, level: str, code: str) -> Scope | None:
    """The same from the product's CIS tables (feeder lines, 台区, areas)."""
    if level == "line":
        line = s.get(m.FeederLine, code)
        if line is None:
            return None
        tqs = s.scalars(select(m.TransformerDistrict.code).where(m.TransformerDistrict.line_code == code))
        return Scope(level, code, line.name, line.area_code, (code,), tuple(sorted(tqs)))
    if level == "tq":
        tq = s.get(m.TransformerDistrict, code)
        if tq is None:
            return None
        return Scope(level, code, tq.name, tq.area_code, (tq.line_code,), (code,), tq.line_code)
    area = s.get(m.Area, code)
    if area is None:
        return None
    lines = s.scalars(select(m.FeederLine.code).where(m.FeederLine.area_code == code))
    tqs = s.scalars(select(m.TransformerDistrict.code).where(m.TransformerDistrict.area_code == code))
    return Scope(level, code, area.name, code, tuple(sorted(lines)), tuple(sorted(tqs)))


def _in_scope(ds: Dataset, scope: Scope) -> Table:
    """The customers of the scope (account numbers only)."""
    c = ds["customers"]
    where: BooleanValue
    if scope.level == "line":
        where = c.line_code == scope.code
    elif scope.level == "tq":
        where = c.tq_code == scope.code
    else:
        where = c.area_code == scope.code
    return c.filter(where).select("account_no")


def children(ds: Dataset, scope: Scope) -> list[dict[str, Any]]:
    """A line's 台区 or an area's lines with their customer counts (a 台区 has none)."""
    if scope.level == "tq":
        return []
    c = ds["customers"]
    if scope.level == "line":
        tqs = ds["districts"]
        names = tqs.filter(tqs.line_code == scope.code).select(code=tqs.tq_code, name=tqs.tq_name)
        f = c.filter(c.line_code == scope.code)
        sizes = f.group_by(code=f.tq_code).aggregate(size=f.count())
    else:
        lines = ds["lines"]
        names = lines.filter(lines.area_code == scope.code).select(code=lines.line_code, name=lines.line_name)
        f = c.filter(c.area_code == scope.code)
        sizes = f.group_by(code=f.line_code).aggregate(size=f.count())
    joined = names.left_join(sizes, "code").select(names.code, names.name, size=sizes.size.fill_null(0))
    return [{"code": r["code"], "name": r["name"], "size": int(r["size"])} for r in _rows(joined.order_by("code"))]


def _page(expr: Table, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    total = int(expr.count().to_pyarrow().as_py())
    return total, _rows(expr.limit(limit, offset=offset)) if offset < total else []


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "")


def _within(started_at: Any, window: Window | None) -> Any:
    if window is None:
        return ibis.literal(True)
    since, until = window.timestamps()
    return (started_at >= since) & (started_at < until)


def outages_page(
    ds: Dataset, scope: Scope, offset: int, limit: int, kind: str | None = "fault", window: Window | None = None
) -> dict[str, Any]:
    """The scope's outages in the window, newest first, as the hot-spot job counts them: a 台区's own (its line's
    whole-line outages count for the line), a line's all, an area's those of its lines."""
    o = ds["outages"]
    where = o.tq_code == scope.code if scope.level == "tq" else o.line_code.isin(list(scope.line_codes) or [""])
    where = where & _within(o.started_at, window)
    if kind:
        where = where & (o.kind == kind)
    total, rows = _page(o.filter(where).order_by([ibis.desc("started_at"), "outage_id"]), offset, limit)
    items = [
        {"id": r["outage_id"], "kind": OUTAGE_KINDS.get(r["kind"], r["kind"]), "line_code": r["line_code"],
         "tq_code": r["tq_code"] or "", "whole_line": r["tq_code"] is None, "started_at": _when(r["started_at"]),
         "duration_min": int(r["duration_min"])}
        for r in rows
    ]  # fmt: skip
    return {"total": total, "offset": offset, "limit": limit, "items": items}


def contacts_page(
    ds: Dataset, scope: Scope, offset: int, limit: int, functions: tuple[str, ...] = (), window: Window | None = None
) -> dict[str, Any]:
    """The contacts of the scope's customers in the window (about `functions`, if given), newest first (account
    numbers masked)."""
    c = ds["contacts"]
    expr = c.filter(c.account_no.isin(_in_scope(ds, scope).account_no), _within(c.started_at, window))
    if functions:
        expr = expr.filter(expr.function.isin(list(functions)))
    total, rows = _page(expr.order_by([ibis.desc("started_at"), "contact_id"]), offset, limit)
    names = catalog()
    items = [
        {"id": r["contact_id"], "account": mask(r["account_no"]), "started_at": _when(r["started_at"]),
         "channel": CONTACT_CHANNELS.get(r["channel"], r["channel"]), "function": r["function"],
         "function_name": names.name(r["function"])}
        for r in rows
    ]  # fmt: skip
    return {"total": total, "offset": offset, "limit": limit, "items": items}


def orders_page(s: Session, scope: Scope, offset: int, limit: int) -> dict[str, Any]:
    """The product's work orders for customers in the scope (by the order's 台区 or its customer's), newest first."""
    tqs = set(scope.tq_codes)
    if scope.level != "tq" and scope.line_codes:
        lines = list(scope.line_codes)
        tqs |= set(s.scalars(select(m.TransformerDistrict.code).where(m.TransformerDistrict.line_code.in_(lines))))
    customers = select(m.Customer.account_no).where(m.Customer.tq_code.in_(sorted(tqs)))
    where = or_(m.WorkOrder.tq_code.in_(sorted(tqs)), m.WorkOrder.account_no.in_(customers))
    if scope.level == "area":
        where = or_(where, m.WorkOrder.area_code == scope.code)
    total = int(s.scalar(select(func.count()).select_from(m.WorkOrder).where(where)) or 0)
    stmt = select(m.WorkOrder).where(where).order_by(m.WorkOrder.created_at.desc(), m.WorkOrder.id.desc())
    names = catalog()
    items = []
    for o in s.scalars(stmt.offset(offset).limit(limit)):
        status = OrderStatus(o.status) if o.status in set(OrderStatus) else None
        items.append({
            "number": o.number, "function": names.name(o.function_id), "status": status.label if status else o.status,
            "open": status.open if status else True, "created_at": to_local(o.created_at).strftime("%Y-%m-%d %H:%M"),
            "tq_code": o.tq_code or "", "account": mask(o.account_no or ""),
            "summary": mask(str(o.details.get("fault_desc") or o.details.get("note") or ""))[:80],
        })  # fmt: skip
    return {"total": total, "offset": offset, "limit": limit, "items": items}

"""One insight run's results into the back end's tables (backend/models_insight.py), in one transaction: readers
(the agent panel, routing, the voice gateway, notices) see the previous run's rows until it commits, then all of
this one's.

- insight_runs: the run's row (opened by `start_run` before the jobs, so a failure is recorded too) is marked done
  with its counts;
- customer_tags, customer_risk: replaced (what a customer holds now);
- customer_tag_changes: one row per holding (account, tag, gained period), inserted or its lost period updated; a
  re-run of the same period writes the same rows. Tags whose history the run recomputed are authoritative from
  that history's first period on (a holding it no longer has is removed); the others are followed run by run
  (`_merge_history`);
- insight_hotspots: the run's rows; those of runs older than the last KEEP_HOTSPOT_RUNS are removed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.model_base import utcnow
from backend.models_insight import CustomerRisk, CustomerTag, CustomerTagChange, Hotspot, InsightRun

KEEP_HOTSPOT_RUNS = 6
CHUNK = 500  # accounts per IN (...) query
Row = dict[str, Any]
HOTSPOT_COLUMNS = tuple(c.key for c in Hotspot.__table__.columns if c.key not in ("id", "run_id"))


@dataclass
class RunResults:
    """What one run computed. Rows are plain dicts (a DataFrame's `to_dict("records")`).

    tags: account_no, tag, reason, rule_id, rule_version, grade (optional), since_period (optional: else the open
      holding's gained period); history: account_no, tag, gained_period, lost_period (None while held), over
      consecutive periods from `history_from`; risk: account_no, period (predicted), probability, grade, path;
      hotspots: the Hotspot columns.
    """

    engine: str
    period: str  # the last billing period the run saw
    tags: list[Row] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)
    risk: list[Row] = field(default_factory=list)
    hotspots: list[Row] = field(default_factory=list)
    model_version: str | None = None
    history_tags: set[str] | None = None  # tags whose history was recomputed (default: those in `history`)
    history_from: str | None = None  # the first period of that history (default: its earliest gained period)


def start_run(sessions: sessionmaker[Session], engine: str, period: str) -> int:
    with sessions.begin() as s:
        run = InsightRun(engine=engine, period=period, status="running", counts={})
        s.add(run)
        s.flush()
        return run.id


def fail_run(sessions: sessionmaker[Session], run_id: int, error: str) -> None:
    with sessions.begin() as s:
        s.execute(
            update(InsightRun)
            .where(InsightRun.id == run_id)
            .values(status="failed", finished_at=utcnow(), error=error[:400])
        )


def latest_run(sessions: sessionmaker[Session]) -> InsightRun | None:
    """The newest run that published (status done)."""
    with sessions() as s:
        q = select(InsightRun).where(InsightRun.status == "done").order_by(InsightRun.id.desc()).limit(1)
        return s.scalars(q).first()


def publish(sessions: sessionmaker[Session], results: RunResults, run_id: int | None = None) -> int:
    """Writes `results` in one transaction; returns the run's id (a new run row unless `run_id` is given)."""
    with sessions.begin() as s:
        run = s.get(InsightRun, run_id) if run_id is not None else None
        if run is None:
            run = InsightRun(engine=results.engine, period=results.period, status="running", counts={})
            s.add(run)
            s.flush()
        changes, since = _merge_history(s, results)
        counts = {
            "customer_tags": _replace_tags(s, run.id, results, since),
            "customer_risk": _replace_risk(s, run.id, results.risk),
            "customer_tag_changes": changes,
            "insight_hotspots": _add_hotspots(s, run.id, results.hotspots),
        }
        run.engine, run.period, run.model_version = results.engine, results.period, results.model_version
        run.status, run.finished_at, run.counts, run.error = "done", utcnow(), counts, None
        return run.id


def _replace_tags(s: Session, run_id: int, results: RunResults, since: dict[tuple[str, str], str]) -> int:
    rows = [
        {
            "account_no": t["account_no"],
            "tag": t["tag"],
            "grade": t.get("grade"),
            "reason": str(t["reason"])[:200],
            "period": results.period,
            "since_period": t.get("since_period") or since.get((t["account_no"], t["tag"]), results.period),
            "rule_id": t["rule_id"],
            "rule_version": int(t["rule_version"]),
            "run_id": run_id,
        }
        for t in results.tags
    ]
    s.execute(delete(CustomerTag))
    _insert(s, CustomerTag, rows)
    return len(rows)


def _replace_risk(s: Session, run_id: int, risk: list[Row]) -> int:
    rows = [
        {
            "account_no": r["account_no"],
            "period": r["period"],
            "probability": float(r["probability"]),
            "grade": r["grade"],
            "path": str(r["path"])[:400],
            "model_version": str(r.get("model_version") or ""),
            "run_id": run_id,
        }
        for r in risk
    ]
    s.execute(delete(CustomerRisk))
    _insert(s, CustomerRisk, rows)
    return len(rows)


def _merge_history(s: Session, results: RunResults) -> tuple[int, dict[tuple[str, str], str]]:
    """Brings customer_tag_changes to what the run says; returns the rows written and, per holding open now,
    the period it was gained (what customer_tags.since_period shows).

    Tags in `history_tags` have their history recomputed from `history_from` on: those rows replace the ones
    gained since then, and a holding open at `history_from` goes on as the same row. The other tags (those that
    need the run's own columns, such as 欠费风险 from the risk model) are followed run by run: held now and open,
    the row stays; held now and not open, a row is gained now; open and not held now, it is lost now."""
    period, history = results.period, results.history
    covered = set(results.history_tags) if results.history_tags is not None else {h["tag"] for h in history}
    first = results.history_from or min((str(h["gained_period"]) for h in history), default=period)
    q = select(
        CustomerTagChange.id,
        CustomerTagChange.account_no,
        CustomerTagChange.tag,
        CustomerTagChange.gained_period,
        CustomerTagChange.lost_period,
    ).where(or_(CustomerTagChange.lost_period.is_(None), CustomerTagChange.lost_period >= first))
    known = {(a, t, g): (row_id, lost) for row_id, a, t, g, lost in s.execute(q).tuples()}
    wanted: dict[tuple[str, str, str], str | None] = {}
    # recomputed tags: a holding open before the window and held at its start goes on as the same row
    before = {
        (a, t): g
        for (a, t, g), (_, lost) in known.items()
        if t in covered and g < first and (lost is None or lost > first)
    }
    for h in history:
        a, t, g = h["account_no"], h["tag"], str(h["gained_period"])
        wanted[(a, t, before.get((a, t), g) if g == first else g)] = h.get("lost_period")
    for (a, t), g in before.items():
        wanted.setdefault((a, t, g), first)  # not held at the window's start: it ended by then
    # followed tags: open now and held -> stays; open and not held -> lost now; lost in an earlier run of this
    # period -> held again, or stays lost; gained and lost within this period (a re-run) -> removed
    held = {(r["account_no"], r["tag"]) for r in results.tags if r["tag"] not in covered}
    followed = [(k, lost) for k, (_, lost) in known.items() if k[1] not in covered and lost in (None, period)]
    for (a, t, g), _ in followed:
        if (a, t) in held:
            wanted[(a, t, g)] = None
        elif g != period:
            wanted[(a, t, g)] = period
    opened = {(a, t) for (a, t, _), lost in wanted.items() if lost is None}
    for a, t in held - opened:
        wanted[(a, t, period)] = None
    new = [
        {"account_no": a, "tag": t, "gained_period": g, "lost_period": lost}
        for (a, t, g), lost in wanted.items()
        if (a, t, g) not in known
    ]
    changed = [
        {"id": known[k][0], "lost_period": lost} for k, lost in wanted.items() if k in known and known[k][1] != lost
    ]
    gone = [known[k][0] for k in known if k[1] in covered and k[2] >= first and k not in wanted]
    gone += [known[k][0] for k, _ in followed if k not in wanted]
    for part_ids in _chunks(gone):
        s.execute(delete(CustomerTagChange).where(CustomerTagChange.id.in_(part_ids)))
    _insert(s, CustomerTagChange, new)
    if changed:
        s.execute(update(CustomerTagChange), changed)
    since = {(a, t): g for (a, t, g), lost in wanted.items() if lost is None}
    return len(new) + len(changed), since


def _add_hotspots(s: Session, run_id: int, hotspots: list[Row]) -> int:
    rows = [{**{k: h[k] for k in HOTSPOT_COLUMNS if k in h}, "run_id": run_id} for h in hotspots]
    _insert(s, Hotspot, rows)
    keep = select(InsightRun.id).where(InsightRun.status == "done").order_by(InsightRun.id.desc())
    kept = [*s.scalars(keep.limit(KEEP_HOTSPOT_RUNS - 1)), run_id]
    s.execute(delete(Hotspot).where(Hotspot.run_id.not_in(kept)))
    return len(rows)


def _insert(s: Session, model: Any, rows: Sequence[Row]) -> None:
    for i in range(0, len(rows), 5000):
        s.execute(insert(model), list(rows[i : i + 5000]))


def _chunks(items: Sequence[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield list(items[i : i + CHUNK])


def records(frame: Any) -> list[Row]:
    """A DataFrame's rows (or a list of dicts as is) as plain Python values, None for a missing one."""
    if isinstance(frame, list):
        return frame
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _plain(v: Any) -> Any:
    if type(v).__name__ in ("NAType", "NaTType") or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v

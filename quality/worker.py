"""The inspection worker: a periodic task of the analytics process (analytics.__main__.periodic_tasks, both
profiles) that inspects every finished contact once, off the conversation's response path.

Each round takes the finished contacts without an inspection, oldest end first, in batches: outcome decided, and
for an agent's contact the case closed (handle_seconds known). Each contact is built (quality.adapter), inspected
(one `Inspector` made at start: a rule file that does not parse stops the process, naming the rule and line) and
stored with its flags. Building and inspecting run outside any write transaction (SQLite's write lock is
database-wide, and a live turn filing an order must not wait for the emotion model): a short transaction claims the
contact first (quality_inspection_claims), so two analytics processes never inspect one contact twice, and a second
short one stores the result, unless the contact went on meanwhile; contact_id is unique besides. A contact that
cannot be built is stored `not_inspectable` with the reason and the next one goes on; one still waiting for
something (a transcript, a call-back's due time) is left for a later round. Unflagged inspections are drawn into
the random recall sample with probability P95598_QUALITY_SAMPLE (default 0.1).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import cast

from sqlalchemy import Delete, Table, and_, delete, exists, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from backend.db import insert_new, write_lock
from backend.model_base import utcnow
from backend.models_analytics import Contact, ContactOutcome
from backend.models_quality import Flag, Inspection, InspectionClaim, InspectionStatus, Review
from quality.adapter import Built, NotInspectable, NotReady, build
from quality.inspect import Inspector, Result
from quality.rules import RULES_ENV

log = logging.getLogger(__name__)
SAMPLE_ENV = "P95598_QUALITY_SAMPLE"
DEFAULT_SAMPLE = 0.1
BATCH = 50
RETRY_AFTER = dt.timedelta(hours=1)  # an inspector error: tried again later (and after a restart with a fix)
REASON_LENGTH = 200
REOPENED_AFTER = dt.timedelta(seconds=60)  # the rating card and the end divider come within this of the end
CLAIM_FOR = dt.timedelta(minutes=10)  # a claim whose worker died lapses after this
Outcome = tuple[Built, Result] | str  # inspected, or the reason it could not be
CLAIMS = cast(Table, InspectionClaim.__table__)


def sample_rate(env: Mapping[str, str] | None = None) -> float:
    """The share of unflagged inspections drawn for a recall review; ValueError naming the variable when bad."""
    raw = (os.environ if env is None else env).get(SAMPLE_ENV, "").strip()
    if not raw:
        return DEFAULT_SAMPLE
    try:
        rate = float(raw)
    except ValueError:
        raise ValueError(f"{SAMPLE_ENV} must be a number between 0 and 1, not {raw[:20]!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{SAMPLE_ENV} must be between 0 and 1, not {rate}")
    return rate


def finished() -> list[ColumnElement[bool]]:
    """Contacts that are over: outcome decided, and an agent's case closed."""
    return [
        Contact.outcome != ContactOutcome.IN_PROGRESS,
        or_(Contact.outcome != ContactOutcome.AGENT, Contact.handle_seconds.is_not(None)),
        Contact.ended_at.is_not(None),
        ~exists(  # not inspected yet, or the contact went on after its inspection (a second call, a new message)
            select(Inspection.id).where(Inspection.contact_id == Contact.id, Inspection.ended_at >= Contact.ended_at)
        ),
    ]


def ended(c: Contact) -> dt.datetime:
    """When the contact ended, or started if it has no end yet: what an inspection is compared against."""
    return c.ended_at or c.started_at


class InspectionWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        tracker: Engine,
        inspector: Inspector | None = None,
        sample: float | None = None,
        rng: random.Random | None = None,
        batch: int = BATCH,
    ) -> None:
        self.sessions = sessions
        self.tracker = tracker
        self.inspector = inspector if inspector is not None else Inspector()
        self.sample = sample_rate() if sample is None else sample
        self.rng = rng or random.Random()
        self.batch = batch
        self.waiting: dict[int, dt.datetime] = {}  # contact id -> not before (NotReady, inspector errors)

    def due(self, now: dt.datetime) -> list[int]:
        """The next batch of contacts to inspect, oldest end first."""
        self.waiting = {cid: until for cid, until in self.waiting.items() if until > now}
        q = select(Contact.id).where(and_(*finished()))
        if self.waiting:
            q = q.where(Contact.id.not_in(list(self.waiting)))
        with self.sessions() as s:
            return list(s.scalars(q.order_by(Contact.ended_at, Contact.id).limit(self.batch)))

    def __call__(self, now: dt.datetime) -> int:  # analytics.feed.Task
        return self.run(now)

    def run(self, now: dt.datetime | None = None) -> int:
        """One round: the number of contacts stored (inspected or not inspectable)."""
        now = now or utcnow()
        stored = 0
        for contact_id in self.due(now):
            stored += self.inspect_one(contact_id, now)
        return stored

    def inspect_one(self, contact_id: int, now: dt.datetime) -> int:
        """Claims one contact in a short transaction, builds and inspects it outside any write transaction, and
        stores the result in a second short one; 1 when stored here, else 0."""
        token = secrets.token_hex(8)
        end = self._claim(contact_id, token, now)
        if end is None:
            return 0
        finished = False  # _finish drops the claim in its own transaction, stored or not
        try:
            with self.sessions() as s:  # reads only: live turns write meanwhile
                c = s.get(Contact, contact_id)
                outcome = None if c is None else self._build_and_inspect(s, c, now)
            if outcome is None:
                return 0
            stored = self._finish(contact_id, token, end, outcome, now)
            finished = True
            return stored
        except IntegrityError:  # stored by another process meanwhile (contact_id is unique)
            return 0
        finally:
            if not finished:
                self._release(contact_id, token)

    def _claim(self, contact_id: int, token: str, now: dt.datetime) -> dt.datetime | None:
        """The contact's end when this worker now holds its claim and it needs inspecting; else None. The claim is
        taken before the inspection is looked up, so on PostgreSQL a second worker's claim waits for the first
        one's store and then sees its inspection."""
        with self.sessions.begin() as s:
            write_lock(s)
            lapsed = InspectionClaim.contact_id == contact_id, InspectionClaim.until < now  # its worker died
            s.execute(delete(InspectionClaim).where(*lapsed))
            if not insert_new(s, CLAIMS, {"contact_id": contact_id, "token": token, "until": now + CLAIM_FOR}):
                return None  # another worker is on it
            c = s.get(Contact, contact_id)
            seen = s.scalars(select(Inspection).where(Inspection.contact_id == contact_id)).first()
            end = None if c is None else ended(c)
            if end is not None and seen is not None and end - seen.ended_at <= REOPENED_AFTER:
                if seen.ended_at < end:  # only the end divider or rating card came after
                    seen.ended_at = end
                end = None
            if end is None:  # gone, or inspected meanwhile
                s.execute(self._mine(contact_id, token))
            return end

    def _build_and_inspect(self, s: Session, c: Contact, now: dt.datetime) -> Outcome | None:
        """The contact built and inspected, or the reason it cannot be; None when it is to wait (NotReady, or the
        inspector's own error: tried again later rather than recorded as the contact's)."""
        try:
            built = build(s, self.tracker, c, now)
        except NotReady as e:
            self.waiting[c.id] = e.until
            return None
        except NotInspectable as e:
            return str(e)
        except OperationalError:
            raise
        except Exception as e:  # broken data in this contact only: recorded, and the next one goes on
            log.exception("contact %s could not be built for inspection", c.id)
            return f"对话数据有误，无法质检（{e.__class__.__name__}）"
        try:
            return built, self.inspector.inspect(built.contact)
        except Exception:
            log.exception("inspecting contact %s failed", c.id)
            self.waiting[c.id] = now + RETRY_AFTER
            return None

    def _finish(self, contact_id: int, token: str, end: dt.datetime, outcome: Outcome, now: dt.datetime) -> int:
        """Stores the outcome and drops the claim, if the claim is still this worker's and the contact has not
        gone on since it was claimed (then a later round inspects it again); 1 when stored."""
        with self.sessions.begin() as s:
            write_lock(s)
            mine = s.get(InspectionClaim, contact_id)
            if mine is None or mine.token != token:
                return 0  # it lapsed and another worker took it
            s.delete(mine)
            c = s.get(Contact, contact_id)
            seen = s.scalars(select(Inspection).where(Inspection.contact_id == contact_id)).first()
            if c is None or ended(c) != end:
                return 0
            if seen is not None and seen.ended_at >= end:
                return 0
            if isinstance(outcome, str):
                self._put(s, self._row(c, now, status=InspectionStatus.NOT_INSPECTABLE, reason=outcome), seen)
            else:
                self._store(s, c, *outcome, now, seen)
            return 1

    @staticmethod
    def _mine(contact_id: int, token: str) -> Delete:
        return delete(InspectionClaim).where(InspectionClaim.contact_id == contact_id, InspectionClaim.token == token)

    def _release(self, contact_id: int, token: str) -> None:
        try:
            with self.sessions.begin() as s:
                s.execute(self._mine(contact_id, token))
        except OperationalError:  # the claim lapses by itself
            log.warning("could not release the inspection claim on contact %s", contact_id, exc_info=True)

    def _row(self, c: Contact, now: dt.datetime, **values: object) -> Inspection:
        end = ended(c)
        reason = values.pop("reason", None)
        return Inspection(
            contact_id=c.id,
            conversation_id=c.conversation_id,
            channel=c.channel,
            handled_by="agent" if c.outcome == ContactOutcome.AGENT else "bot",
            started_at=c.started_at,
            ended_at=end,
            inspected_at=now,
            delay_seconds=max(0.0, (now - end).total_seconds()),
            reason=None if reason is None else str(reason)[:REASON_LENGTH],
            score=0.0 if values.get("status") == InspectionStatus.NOT_INSPECTABLE else 100.0,
            flags=0,
            top_severity=0,
            turns=c.turns,
            parts=1,
            emotions=[],
            sampled=False,
            rules_version=self.rules_version,
            **values,
        )

    @staticmethod
    def _put(s: Session, row: Inspection, before: Inspection | None) -> tuple[Inspection, set[str]]:
        """Adds `row`; or, for a contact that went on after its inspection, writes it over the earlier one in place
        (same id: links to it and its sample review stay valid), dropping the unreviewed flags. Returns the stored
        row and the rules whose flags reviewers already judged (kept, not flagged twice)."""
        if before is None:
            s.add(row)
            s.flush()
            return row, set()
        flags = s.scalars(select(Flag).where(Flag.inspection_id == before.id)).all()
        for f in flags:
            if f.review == Review.PENDING:
                s.delete(f)
        row.sampled = row.sampled or before.sampled
        for column in Inspection.__table__.columns:
            if column.name != "id":
                setattr(before, column.name, getattr(row, column.name))
        s.flush()
        return before, {f.rule_id for f in flags if f.review != Review.PENDING}

    @property
    def rules_version(self) -> str:
        return str(getattr(getattr(self.inspector, "rules", None), "version", "") or "")

    def _store(
        self, s: Session, c: Contact, built: Built, result: Result, now: dt.datetime, before: Inspection | None = None
    ) -> None:
        """Stores the inspection; a contact that went on after its inspection replaces the earlier one in place,
        its unreviewed flags dropped and the reviewers' verdicts kept (a rule already judged is not flagged twice)."""
        contact = built.contact
        row = self._row(c, now, status=InspectionStatus.INSPECTED)
        row.channel = contact.channel
        row.handled_by = contact.handled_by
        if contact.agent is not None:
            row.agent_id, row.agent_name, row.team = contact.agent.id, contact.agent.name, contact.agent.team
        row.score = float(result.score)
        row.flags = len(result.findings)
        row.top_severity = max((f.severity for f in result.findings), default=0)
        row.turns = sum(1 for t in contact.turns if t.who != "system")
        row.parts = result.parts
        row.emotions = list(result.emotions)
        row.sampled = not result.findings and self.rng.random() < self.sample
        row, kept = self._put(s, row, before)
        for finding in (f for f in result.findings if f.rule_id not in kept):
            evidence = [
                asdict(e) | {"spans": [list(span) for span in e.spans], "event": contact.turns[e.turn].event}
                for e in finding.evidence
            ]
            recording, offset = None, None
            for e in finding.evidence:
                if e.turn in built.recording_of:
                    recording, offset = built.recording_of[e.turn], contact.turns[e.turn].recording_offset
                    break
            s.add(
                Flag(
                    inspection_id=row.id,
                    rule_id=finding.rule_id,
                    severity=finding.severity,
                    message=finding.message[:200],
                    evidence=evidence,
                    recording_id=recording,
                    offset_seconds=offset,
                )
            )


def inspection_task(
    sessions: sessionmaker[Session], tracker: Engine, env: Mapping[str, str] | None = None
) -> InspectionWorker:
    """The analytics process's periodic task: the rules (P95598_QUALITY_RULES, default quality/rules.yml) and the
    emotion model are loaded here, once, at start; quality.rules.RuleFileError stops the process."""
    from quality.emotion import EmotionModel
    from quality.rules import load_rules

    env = os.environ if env is None else env
    rules = load_rules(Path(env[RULES_ENV]) if env.get(RULES_ENV) else None)
    return InspectionWorker(sessions, tracker, Inspector(rules, EmotionModel.load()), sample_rate(env))

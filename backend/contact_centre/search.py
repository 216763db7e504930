"""会话记录: finished cases (returned to the bot or closed) by date, channel, agent, disposition and 户号, and a
search in their transcripts.

Chinese has no spaces, so a transcript is indexed as the distinct character bigrams of its Chinese runs
("电费很高" -> 电费 费很 很高) plus its latin/digit words, one row per (case, term) in `case_terms`. A query is
split the same way; a case is a candidate when it has all the query's terms, and a hit only when each of the
query's phrases really occurs in one turn (bigrams in the wrong order or in different turns are dropped). A
one-character query has no bigram: it is looked for in the stored text directly.

A case is indexed when it ends (console/casework.finish) from the conversation's turns up to its end; the text
indexed is kept (`escalations.transcript_text`, one turn a line: who, a tab, the words) for the snippets and
the read-only transcript. Cases that ended before this existed are indexed lazily by the console or by

    python -m backend.contact_centre.search reindex [--limit N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.kinds import CaseStatus
from backend.pii import mask

log = logging.getLogger(__name__)

ENDED = (CaseStatus.RETURNED, CaseStatus.CLOSED)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[A-Za-z0-9]+")
TERM_LENGTH = 16  # case_terms.term
MAX_QUERY = 50  # characters of a search
MAX_CANDIDATES = 2000  # cases checked against the phrase per search (newest first)
SNIPPET = 28  # characters either side of the hit
WHO = ("customer", "bot", "agent")


def terms(text: str) -> set[str]:
    """The distinct bigrams of each Chinese run (a lone character stands alone) and the latin/digit words."""
    found: set[str] = set()
    for run in HAN.findall(text):
        if len(run) == 1:
            found.add(run)
        else:
            found.update(run[i : i + 2] for i in range(len(run) - 1))
    found.update(word.lower()[:TERM_LENGTH] for word in WORD.findall(text))
    return found


def phrases(query: str) -> list[str]:
    """What the agent typed, as the phrases that must each occur: split at spaces, punctuation dropped."""
    parts = re.split(r"[\s,，。？?！!、；;：:]+", query.strip()[:MAX_QUERY])
    return [p for p in parts if HAN.search(p) or WORD.search(p)]


@dataclass(frozen=True)
class Turn:
    who: str  # customer | bot | agent
    text: str
    name: str = ""  # the agent's name

    def line(self) -> str:
        who = f"agent:{self.name}" if self.who == "agent" and self.name else self.who
        return f"{who}\t{' '.join(self.text.split())}"


def parse_text(stored: str | None) -> list[Turn]:
    turns = []
    for line in (stored or "").splitlines():
        who, _, text = line.partition("\t")
        kind, _, name = who.partition(":")
        turns.append(Turn(kind if kind in WHO else "bot", text, name))
    return turns


def turns_of(transcript: Iterable[dict[str, Any]]) -> list[Turn]:
    """backend.case_view.transcript's turns as indexed."""
    return [
        Turn(str(t.get("who") or "bot"), str(t.get("text") or ""), str(t.get("agent") or ""))
        for t in transcript
        if str(t.get("text") or "").strip()
    ]


def matches(turns: Sequence[Turn], wanted: Sequence[str]) -> tuple[int, int, int] | None:
    """(turn, start, length) of the first phrase in the first turn where it occurs, if every phrase occurs."""
    first: tuple[int, int, int] | None = None
    for phrase in wanted:
        needle = phrase.casefold()
        at = next(
            ((i, t.text.casefold().find(needle)) for i, t in enumerate(turns) if needle in t.text.casefold()), None
        )
        if at is None:
            return None
        first = first or (at[0], at[1], len(phrase))
    return first


@dataclass(frozen=True)
class Filters:
    date_from: dt.datetime | None = None  # UTC, inclusive
    date_to: dt.datetime | None = None  # UTC, exclusive
    channel: str | None = None
    agent_id: int | None = None
    disposition: str | None = None
    account_no: str | None = None
    query: str = ""


@dataclass(frozen=True)
class Found:
    case_id: int
    channel: str
    status: str
    agent_id: int | None
    agent_name: str
    disposition: str | None
    account_masked: str
    summary: str  # masked, first line
    created_at: dt.datetime
    closed_at: dt.datetime | None
    snippet: tuple[str, str, str]  # masked: before, hit, after ("", "", "") without a text query
    who: str  # whose turn the snippet is from


def masked_account(account: str | None) -> str:
    return mask(account) if account else ""


def snippet_of(turn: Turn, start: int, length: int) -> tuple[str, str, str]:
    """The hit with some words either side, masked; masking keeps lengths, so the hit stays in place."""
    text = mask(turn.text)
    lo, hi = max(0, start - SNIPPET), min(len(text), start + length + SNIPPET)
    before = ("…" if lo else "") + text[lo:start]
    return before, text[start : start + length], text[start + length : hi] + ("…" if hi < len(text) else "")


class TranscriptSearch:
    """Indexing ended cases and finding them again."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def index(self, case_id: int, turns: Sequence[Turn]) -> int:
        """Stores the case's transcript and its terms (replacing any earlier index); the number of terms."""
        text = "\n".join(t.line() for t in turns)
        found = set().union(*(terms(t.text) for t in turns)) if turns else set()
        with self._sessions.begin() as s:
            row = s.get(m.Escalation, case_id)
            if row is None:
                raise LookupError(f"no case {case_id}")
            row.transcript_text = text
            s.execute(delete(m.CaseTerm).where(m.CaseTerm.case_id == case_id))
            s.add_all(m.CaseTerm(case_id=case_id, term=term) for term in sorted(found))
        return len(found)

    def unindexed(self, limit: int = 100) -> list[tuple[int, str, dt.datetime | None, dict[str, Any]]]:
        """Ended cases not indexed yet, newest first: (id, conversation, ended at, context)."""
        with self._sessions() as s:
            rows = s.execute(
                select(m.Escalation.id, m.Escalation.conversation_id, m.Escalation.closed_at, m.Escalation.context)
                .where(m.Escalation.status.in_(ENDED), m.Escalation.transcript_text.is_(None))
                .order_by(m.Escalation.id.desc())
                .limit(limit)
            ).all()
        return [(int(i), str(c), at, dict(ctx or {})) for i, c, at, ctx in rows]

    def agents(self) -> list[tuple[str, str]]:
        """(工号, name) of every agent who may have handled cases, for the agent filter."""
        with self._sessions() as s:
            rows = s.execute(select(m.Agent.username, m.Agent.display_name).order_by(m.Agent.username)).all()
        return [(str(u), str(n)) for u, n in rows]

    def transcript(self, case_id: int) -> list[Turn] | None:
        """The stored transcript (None: not indexed yet)."""
        with self._sessions() as s:
            text = s.scalar(select(m.Escalation.transcript_text).where(m.Escalation.id == case_id))
        return None if text is None else parse_text(text)

    def search(self, f: Filters, limit: int = 50, offset: int = 0) -> tuple[list[Found], int]:
        """Ended cases matching the filters (and the text, when given), newest end first; and how many."""
        wanted = phrases(f.query)
        q = (
            select(m.Escalation, m.Agent.display_name)
            .outerjoin(m.Agent, m.Agent.id == m.Escalation.agent_id)
            .where(m.Escalation.status.in_(ENDED))
        )
        if f.date_from is not None:
            q = q.where(m.Escalation.closed_at >= f.date_from)
        if f.date_to is not None:
            q = q.where(m.Escalation.closed_at < f.date_to)
        if f.channel:
            q = q.where(m.Escalation.channel == f.channel)
        if f.agent_id is not None:
            q = q.where(m.Escalation.agent_id == f.agent_id)
        if f.disposition:
            q = q.where(m.Escalation.disposition == f.disposition)
        if f.account_no:
            q = q.where(m.Escalation.account_no == f.account_no)
        needed = set().union(*(terms(p) for p in wanted)) if wanted else set()
        bigrams = {t for t in needed if len(t) > 1 or not HAN.fullmatch(t)}
        if bigrams:
            having = (
                select(m.CaseTerm.case_id)
                .where(m.CaseTerm.term.in_(sorted(bigrams)))
                .group_by(m.CaseTerm.case_id)
                .having(func.count(m.CaseTerm.term) == len(bigrams))
            )
            q = q.where(m.Escalation.id.in_(having))
        for single in needed - bigrams:  # a lone character: no bigram to look up
            q = q.where(m.Escalation.transcript_text.contains(single, autoescape=True))
        q = q.order_by(m.Escalation.closed_at.desc(), m.Escalation.id.desc())
        with self._sessions() as s:
            if not wanted:
                total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
                rows = s.execute(q.limit(limit).offset(offset)).all()
                return [self._found(e, name, None) for e, name in rows], int(total)
            hits = []
            for e, name in s.execute(q.limit(MAX_CANDIDATES)).all():
                turns = parse_text(e.transcript_text)
                at = matches(turns, wanted)
                if at is not None:  # all bigrams present, and the phrases really there: a hit
                    hits.append(self._found(e, name, (turns, *at)))
        return hits[offset : offset + limit], len(hits)

    @staticmethod
    def _found(e: m.Escalation, agent_name: str | None, hit: tuple[list[Turn], int, int, int] | None) -> Found:
        snippet, who = ("", "", ""), ""
        if hit is not None:
            turns, i, start, length = hit
            snippet, who = snippet_of(turns[i], start, length), turns[i].who
        return Found(
            case_id=e.id,
            channel=e.channel,
            status=e.status,
            agent_id=e.agent_id,
            agent_name=agent_name or "",
            disposition=e.disposition,
            account_masked=masked_account(e.account_no),
            summary=mask((e.summary or "").split("\n")[0]),
            created_at=e.created_at,
            closed_at=e.closed_at,
            snippet=snippet,
            who=who,
        )


def until_end(events: list[dict[str, Any]], ended: dt.datetime | None, grace: float = 5.0) -> list[dict[str, Any]]:
    """The conversation's events up to the case's end (what came after belongs to later contacts)."""
    if ended is None:
        return events
    limit = ended.replace(tzinfo=dt.timezone.utc).timestamp() + grace
    return [e for e in events if float(e.get("timestamp") or 0) <= limit]


def reindex(sessions: sessionmaker[Session], rasa_url: str, token: str, limit: int) -> int:
    """Indexes ended cases not indexed yet from their Rasa conversations (else the context kept at escalation)."""
    import requests

    from backend.case_view import transcript

    search, done = TranscriptSearch(sessions), 0
    for case_id, conversation, ended, context in search.unindexed(limit):
        events: list[dict[str, Any]] = []
        try:
            r = requests.get(
                f"{rasa_url.rstrip('/')}/conversations/{conversation}/tracker",
                params={"include_events": "AFTER_RESTART", **({"token": token} if token else {})},
                timeout=30,
            )
            events = (r.json().get("events") or []) if r.ok else []
        except (requests.RequestException, ValueError) as e:
            log.warning("tracker of case %s not available: %r", case_id, e)
        turns = transcript(until_end(events, ended), limit=10_000) if events else context.get("transcript") or []
        search.index(case_id, turns_of(turns))
        done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    import os

    from backend.db import database_url, make_engine, make_sessionmaker
    from backend.settings import rasa_token

    p = argparse.ArgumentParser(prog="python -m backend.contact_centre.search", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["reindex"])
    p.add_argument("--limit", type=int, default=100_000, help="at most this many cases (newest first)")
    p.add_argument("--rasa-url", default=os.environ.get("P95598_RASA_URL", "http://127.0.0.1:5005"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    engine = make_engine(database_url())
    try:
        n = reindex(make_sessionmaker(engine), args.rasa_url, rasa_token(), args.limit)
    finally:
        engine.dispose()
    print(f"indexed {n} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

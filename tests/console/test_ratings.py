"""Satisfaction ratings on real SQLite and PostgreSQL: asked once per contact, answered once, summed per agent."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from backend import models as m
from backend.contact_centre import ContactStore


@pytest.fixture
def store(sessions) -> ContactStore:
    return ContactStore(sessions)


def _case(store: ContactStore, conversation: str, agent_id: int):
    case = store.escalate(conversation, "chat", "customer_request", summary="转人工", context={})[0]
    store.claim(case.id, agent_id)
    return store.finish(case.id, "closed", "已解决")


def test_asking_is_idempotent_per_case_and_per_bot_chat(store):
    agent = store.add_agent("1001", "张丽", "x" * 8)
    case = _case(store, "chat:a", agent.id)
    key = store.ask("chat:a", "chat", case_id=case.id, agent_id=agent.id, account_no="1234567890")
    assert key == f"case:{case.id}"
    assert store.ask("chat:a", "chat", case_id=case.id, agent_id=agent.id) == key
    bot = store.ask("chat:b", "wechat")
    assert bot == "bot:chat:b:1" and store.ask("chat:b", "wechat") == bot  # unanswered: the same question
    store.answer(bot, 4)
    assert store.ask("chat:b", "wechat") == "bot:chat:b:2"  # a later bot-only chat is another contact
    with store.sessions() as s:
        assert s.scalar(select(m.Rating.id).where(m.Rating.contact_key == key)) is not None
        assert len(s.scalars(select(m.Rating)).all()) == 3


def test_pending_is_the_latest_unanswered_within_a_day(store):
    assert store.pending("chat:a") is None
    first = store.ask("chat:a", "chat")
    info = store.pending("chat:a")
    assert info is not None and info.contact_key == first and info.score is None and not info.answered
    store.answer(first, 5)
    assert store.pending("chat:a") is None
    second = store.ask("chat:a", "chat")
    with store.sessions.begin() as s:
        s.execute(
            update(m.Rating).where(m.Rating.contact_key == second).values(asked_at=m.utcnow() - dt.timedelta(hours=25))
        )
    assert store.pending("chat:a") is None  # too old to ask about now
    assert store.pending("chat:other") is None


def test_answer_checks_the_score_and_keeps_the_first(store):
    key = store.ask("chat:a", "chat")
    for bad in (0, 6, -1, "5", 4.5, True, None):
        with pytest.raises(ValueError):
            store.answer(key, bad)
    with pytest.raises(ValueError):
        store.answer(key, 3, "太" * 301)
    assert store.pending("chat:a") is not None  # nothing stored by the refusals
    info = store.answer(key, 2)
    assert (info.score, info.comment, info.answered) == (2, "", True) and info.answered_at is not None
    again = store.answer(key, 5, "  等了太久  ")
    assert (again.score, again.comment) == (2, "等了太久")  # the first score stays; the comment is added
    third = store.answer(key, 1, "改个说法")
    assert (third.score, third.comment) == (2, "等了太久")
    with pytest.raises(LookupError):
        store.answer("case:999999", 3)


def test_by_agent_counts_answered_ratings_since(store):
    a, b = store.add_agent("1001", "张丽", "x" * 8), store.add_agent("1002", "王强", "x" * 8)
    start = m.utcnow() - dt.timedelta(seconds=1)
    for i, (agent, score) in enumerate([(a, 5), (a, 4), (b, 2), (b, None)]):
        case = _case(store, f"chat:{i}", agent.id)
        key = store.ask(f"chat:{i}", "chat", case_id=case.id, agent_id=agent.id, account_no="1234567890")
        if score is not None:
            store.answer(key, score, "很好" if score == 5 else "")
    store.answer(store.ask("chat:bot", "chat"), 1)  # a bot-only chat counts for no agent
    assert store.by_agent(start) == {a.id: (2, 4.5), b.id: (1, 2.0)}
    assert store.by_agent(m.utcnow() + dt.timedelta(minutes=1)) == {}
    assert [r.score for r in store.ratings_of("1234567890")] == [2, 4, 5]

"""The contact centre's records on real SQLite and real PostgreSQL: logins, the queue, claims, codes."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import update

from backend import models as m
from backend.contact_centre import CaseStatus, Conflict, ContactStore, EscalationReason, check_password, hash_password
from backend.models_insight import CustomerTag


@pytest.fixture
def store(sessions) -> ContactStore:
    return ContactStore(sessions)


def _case(store: ContactStore, conversation: str, **kw):
    kw.setdefault("summary", "客户要求转人工")
    kw.setdefault("context", {"transcript": [{"who": "customer", "text": "转人工"}]})
    return store.escalate(conversation, "chat", kw.pop("reason", "customer_request"), **kw)[0]


def test_passwords_are_salted_hashes_and_checked():
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and "correct" not in a
    assert check_password("correct horse", a) and not check_password("wrong", a)
    assert not check_password("x", "not-a-hash")


def test_login_issues_fresh_tokens_that_expire(store):
    agent = store.add_agent("1001", "张丽", "pass-1001")
    assert store.authenticate("1001", "pass-1001") == agent
    assert store.authenticate("1001", "nope") is None and store.authenticate("nobody", "pass-1001") is None
    token, csrf = store.new_login(agent.id, dt.timedelta(hours=1))
    token2, csrf2 = store.new_login(agent.id, dt.timedelta(hours=1))
    assert token != token2 and csrf != csrf2
    assert store.login(token) == (agent, csrf)
    store.logout(token)
    assert store.login(token) is None and store.login(token2) == (agent, csrf2)
    expired, _ = store.new_login(agent.id, dt.timedelta(seconds=-1))
    assert store.login(expired) is None and store.login("") is None


def test_one_open_case_per_conversation_and_queue_order(store):
    first = _case(store, "chat:a")
    again, created = store.escalate("chat:a", "chat", "anger", summary="", context={})
    assert not created and again.id == first.id
    urgent = _case(store, "chat:b", priority="urgent", reason="safety")
    third = _case(store, "chat:c")
    assert [c.id for c in store.queue()] == [urgent.id, first.id, third.id]
    assert store.position(third) == 3
    assert store.open_case("chat:a").context["transcript"][0]["text"] == "转人工"
    agent = store.add_agent("1001", "张丽", "pass-1001")
    store.claim(urgent.id, agent.id)
    assert [store.position(c) for c in (urgent, first, third)] == [0, 1, 2]  # a claimed case has no place


def test_the_queue_watcher_reads_what_changed_since_a_moment(store):
    before = m.utcnow() - dt.timedelta(seconds=1)
    first, second = _case(store, "chat:a", summary="停电报修\n地址…"), _case(store, "chat:b")
    agent = store.add_agent("1001", "张丽", "pass-1001")
    store.claim(second.id, agent.id)
    changes = {c.id: c for c in store.changed_since(before)}
    assert set(changes) == {first.id, second.id}
    assert (changes[first.id].status, changes[first.id].agent_id) == (CaseStatus.WAITING, None)
    assert (changes[second.id].status, changes[second.id].agent_id) == (CaseStatus.CLAIMED, agent.id)
    assert changes[first.id].summary.startswith("停电报修") and changes[first.id].channel == "chat"
    assert store.changed_since(max(c.updated_at for c in changes.values())) == []


def test_a_customers_message_reads_the_open_cases_state_without_its_context(store):
    assert store.open_case_state("chat:a") is None
    case = _case(store, "chat:a")
    state = store.open_case_state("chat:a")
    assert (state.id, state.status, state.agent_id, state.channel) == (case.id, CaseStatus.WAITING, None, "chat")
    assert store.position(state) == 1
    agent = store.add_agent("1001", "张丽", "pass-1001")
    store.claim(case.id, agent.id)
    assert store.open_case_state("chat:a").agent_id == agent.id
    store.finish(case.id, CaseStatus.CLOSED, "resolved")
    assert store.open_case_state("chat:a") is None


def sensitive(store: ContactStore, account: str) -> None:
    """An insight run tagged the account 敏感客户 (backend.customer_insight.SENSITIVE)."""
    with store.sessions.begin() as s:
        s.add(
            CustomerTag(
                account_no=account, tag="敏感客户", reason="近12个月投诉3次", period="2026-10",
                since_period="2026-08", rule_id="sensitive", rule_version=1, run_id=1,
            )
        )  # fmt: skip


def test_a_sensitive_customer_waits_ahead_of_normal_cases_and_behind_urgent_ones(store):
    sensitive(store, "3201000009")
    first = _case(store, "chat:a", account_no="3201000001")
    care = _case(store, "voice:13912340009", account_no="3201000009")
    urgent_too = _case(store, "chat:u", account_no="3201000009", priority="urgent", reason="safety")
    urgent = _case(store, "chat:b", priority="urgent", reason="safety")
    unknown = _case(store, "chat:c")
    assert (care.priority, urgent_too.priority, first.priority) == ("care", "urgent", "normal")
    assert [c.id for c in store.queue()] == [urgent_too.id, urgent.id, care.id, first.id, unknown.id]
    assert store.position(care) == 3


def test_only_one_of_two_agents_claims_a_case(store):
    a, b = store.add_agent("1001", "张丽", "x" * 8), store.add_agent("1002", "王强", "x" * 8)
    case = _case(store, "voice:13912340001")
    results = []

    def claim(agent_id):
        try:
            results.append(store.claim(case.id, agent_id).agent_id)
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=claim, args=(x.id,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)).count("conflict") == 1
    owner = store.case(case.id).agent_id
    assert owner in (a.id, b.id) and store.cases_of(owner)[0].id == case.id
    other = b.id if owner == a.id else a.id
    assert store.transfer(case.id, other).agent_id == other
    done = store.finish(case.id, CaseStatus.RETURNED, "resolved")
    assert done.status == "returned" and done.closed_at is not None
    with pytest.raises(Conflict):
        store.finish(case.id, CaseStatus.CLOSED, "resolved")
    assert store.open_case("voice:13912340001") is None


def test_presence_wait_estimate_and_stats(store):
    a = store.add_agent("1001", "张丽", "x" * 8)
    assert store.agents_online() == []
    store.heartbeat(a.id)
    assert [x.username for x in store.agents_online()] == ["1001"]
    assert store.wait_minutes(3) == 15  # default 5 minutes a case, one agent
    for i in range(3):  # three finished cases of 2 minutes each
        case = store.claim(_case(store, f"chat:{i}").id, a.id)
        store.finish(case.id, CaseStatus.CLOSED, "resolved")
        with store._sessions.begin() as s:
            s.execute(
                update(m.Escalation)
                .where(m.Escalation.id == case.id)
                .values(closed_at=case.claimed_at + dt.timedelta(minutes=2))
            )
    assert store.wait_minutes(3) == 6
    _case(store, "chat:waiting", reason="anger")
    stats = store.stats_today()
    assert stats["queue_length"] == 1 and stats["agents_online"] == ["张丽"]
    assert stats["by_reason"] == {"customer_request": 3, "anger": 1}
    store.heartbeat(a.id, online=False)
    assert store.agents_online() == []


def test_continuation_codes_and_bindings(store):
    code = store.issue_code("voice:13912340001")
    assert len(code) == 6 and code.isdigit()
    assert store.redeem_code(code) == "voice:13912340001" and store.redeem_code("x00000") is None
    old = store.issue_code("chat:x", ttl=dt.timedelta(seconds=-1))
    assert store.redeem_code(old) is None
    assert store.conversation_of("chat:browser1") == "chat:browser1"
    store.bind("chat:browser1", "voice:13912340001")
    store.bind("wechat:openid9", "voice:13912340001")
    assert store.conversation_of("chat:browser1") == "voice:13912340001"
    assert store.identities_of("voice:13912340001") == ["chat:browser1", "voice:13912340001", "wechat:openid9"]


def test_a_released_case_goes_back_to_its_place_in_the_queue(store):
    a = store.add_agent("1001", "张丽", "x" * 8)
    first, second = _case(store, "chat:first"), _case(store, "chat:second")
    store.claim(first.id, a.id)
    assert [c.id for c in store.queue()] == [second.id]
    released = store.release(first.id)
    assert released.status == CaseStatus.WAITING and released.agent_id is None and released.claimed_at is None
    assert [c.id for c in store.queue()] == [first.id, second.id]
    with pytest.raises(Conflict):
        store.release(first.id)  # only a claimed case can be released


def test_statuses_reasons_and_channels_are_closed_sets_stored_as_before(store):
    case = _case(store, "chat:kinds", reason=EscalationReason.ANGER)
    with store._sessions() as s:
        assert s.get(m.Escalation, case.id).status == "waiting" and s.get(m.Escalation, case.id).reason == "anger"
    with pytest.raises(ValueError):
        store.escalate("chat:other", "chat", "requested", summary="", context={})
    with pytest.raises(ValueError):
        store.escalate("chat:other", "fax", "anger", summary="", context={})
    with pytest.raises(ValueError):
        store.finish(case.id, CaseStatus.WAITING, "resolved")  # a case ends returned or closed


def test_a_customer_who_leaves_while_waiting_is_counted_as_abandoned(store):
    waiting, answered = _case(store, "chat:left"), _case(store, "chat:answered")
    agent = store.add_agent("1009", "周敏", "pass-1009")
    store.claim(answered.id, agent.id)
    gone = store.abandon(waiting.id, "customer_ended")
    assert gone.status == CaseStatus.CLOSED and gone.disposition == "customer_ended"
    assert [c.id for c in store.queue()] == []
    with store.sessions() as s:
        assert s.get(m.Escalation, waiting.id).abandoned_at is not None
    with pytest.raises(Conflict):  # an answered case is not abandoned: it ends through its agent
        store.abandon(answered.id, "customer_ended")

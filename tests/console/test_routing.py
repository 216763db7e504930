"""Automatic routing on real SQLite and real PostgreSQL: who is offered a case, lapses and re-offers, accept and
decline, a supervisor's assignment, and two agents (or two routers) racing for one offer."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, update

from backend import models as m
from backend.contact_centre import AgentStatus, CaseStatus, Conflict, ContactStore, OfferGone
from backend.contact_centre.demo import DEMO_SKILLS, ensure_demo_agents
from backend.contact_centre.routing import TAKEN, Policy
from backend.contact_centre.skills import FALLBACK, skill_groups
from backend.models_insight import CustomerTag
from knowledge.catalog import catalog

SOON = dt.timedelta(seconds=20)


@pytest.fixture
def store(sessions) -> ContactStore:
    return ContactStore(sessions)


def _agent(store: ContactStore, username: str, skills=(), *, idle_minutes: float = 0, max_cases: int = 3, role="agent"):
    a = store.add_agent(username, f"坐席{username}", "x" * 8, role)
    store.set_skills(a.id, skills, max_cases)
    store.console_opened(a.id)
    store.set_status(a.id, "available")
    with store.sessions.begin() as s:
        idle = m.utcnow() - dt.timedelta(minutes=idle_minutes)
        s.execute(update(m.Agent).where(m.Agent.id == a.id).values(idle_since=idle))
    return a


def _case(store: ContactStore, conversation: str, functions=("bill_query",), **kw):
    context = {"functions": [{"function": f, "confidence": 0.9, "text": "…"} for f in functions]}
    return store.escalate(conversation, "chat", "customer_request", summary="转人工", context=context, **kw)[0]


def _offered(store: ContactStore, case_id: int) -> int | None:
    case = store.case(case_id)
    assert case is not None
    return case.offered_to


def _expire(store: ContactStore, case_id: int) -> None:
    with store.sessions.begin() as s:
        s.execute(
            update(m.Escalation)
            .where(m.Escalation.id == case_id)
            .values(offer_expires_at=m.utcnow() - dt.timedelta(seconds=1))
        )


def test_every_catalog_function_is_in_exactly_one_skill_group():
    groups = skill_groups()
    placed = [f for g in groups.groups.values() for f in g.functions]
    assert sorted(placed) == sorted(set(placed)), "a function in two groups"
    assert set(placed) == set(catalog().functions), "catalog functions and skill groups differ"
    assert all(g.name and not g.name.isascii() for g in groups.groups.values())  # Chinese names on screen


def test_a_case_needs_the_group_of_the_service_last_asked_for(store):
    assert _case(store, "chat:1", ("greet", "fault_repair", "bill_query", "human_agent")).skill == "billing"
    assert _case(store, "chat:2", ("greet", "human_agent")).skill == FALLBACK
    assert _case(store, "chat:3", ("ev_charging", "affirm")).skill == "business"
    assert store.escalate("chat:4", "chat", "anger", summary="", context={})[0].skill == FALLBACK


def test_demo_agents_have_skills_and_the_supervisor_all(store):
    ensure_demo_agents(store, "demo-pass-1")
    skills = {p.username: p.skills for p in store.presences()}
    assert skills["1001"] == DEMO_SKILLS["1001"] and skills["1002"] == DEMO_SKILLS["1002"]
    assert skills["9001"] == tuple(skill_groups().ids)


def test_the_longest_idle_skilled_agent_is_offered_the_oldest_case_first(store):
    fresh = _agent(store, "1001", ["billing"], idle_minutes=1)
    longest = _agent(store, "1002", ["billing"], idle_minutes=9)
    unskilled = _agent(store, "1003", ["repair"], idle_minutes=30)
    first, second = _case(store, "chat:a"), _case(store, "chat:b")
    done = store.route(SOON)
    assert [(o.case_id, o.agent_id) for o in done.offers] == [(first.id, longest.id), (second.id, fresh.id)]
    assert _offered(store, first.id) == longest.id and _offered(store, second.id) == fresh.id
    assert store.offer_of(unskilled.id) is None
    # one offer in hand at a time: a third case waits for someone to answer
    third = _case(store, "chat:c")
    assert store.route(SOON).offers == [] and _offered(store, third.id) is None
    # a decline sends each case on to the other agent
    store.decline_offer(first.id, longest.id)
    store.decline_offer(second.id, fresh.id)
    offers = store.route(SOON).offers
    assert [(o.case_id, o.agent_id) for o in offers] == [(first.id, fresh.id), (second.id, longest.id)]


def test_the_baseline_policy_offers_to_the_first_free_agent_by_number(store):
    first = _agent(store, "1001", idle_minutes=1)
    _agent(store, "1002", idle_minutes=9)
    case = _case(store, "chat:a")
    assert [(o.case_id, o.agent_id) for o in store.route(SOON, Policy.FIRST_FREE).offers] == [(case.id, first.id)]


def test_urgent_cases_go_first_and_skills_empty_means_any(store):
    anyone = _agent(store, "1001", [])
    normal = _case(store, "chat:a", ("fault_repair",))
    urgent = _case(store, "chat:b", ("ev_charging",), priority="urgent")
    assert [(o.case_id, o.agent_id) for o in store.route(SOON).offers] == [(urgent.id, anyone.id)]
    assert _offered(store, normal.id) is None


def test_a_sensitive_customer_is_offered_before_older_normal_cases_but_after_urgent_ones(store):
    with store.sessions.begin() as s:
        s.add(
            CustomerTag(
                account_no="3201000009", tag="敏感客户", reason="近12个月投诉3次", period="2026-10",
                since_period="2026-08", rule_id="sensitive", rule_version=1, run_id=1,
            )
        )  # fmt: skip
    a, b = _agent(store, "1001", [], idle_minutes=9), _agent(store, "1002", [], idle_minutes=1)
    normal = _case(store, "chat:a")
    care = _case(store, "chat:b", account_no="3201000009")
    urgent = _case(store, "chat:c", priority="urgent")
    assert [(o.case_id, o.agent_id) for o in store.route(SOON).offers] == [(urgent.id, a.id), (care.id, b.id)]
    assert _offered(store, normal.id) is None


def test_supervisors_busy_offline_and_full_agents_get_no_offers(store):
    _agent(store, "9001", [], role="supervisor")
    busy = _agent(store, "1001")
    store.set_status(busy.id, "busy", "会议")
    away = _agent(store, "1002")
    store.heartbeat(away.id, online=False)
    full = _agent(store, "1003", max_cases=1)
    held = _case(store, "chat:held")
    store.claim(held.id, full.id)
    case = _case(store, "chat:a")
    done = store.route(SOON)
    assert done.offers == [] and _offered(store, case.id) is None
    assert away.id in done.offline and store.presence(away.id).status == AgentStatus.OFFLINE
    assert store.agents_online() and all(a.username != "9001" for a in store.agents_online())
    store.finish(held.id, "closed", "resolved")  # a place frees up: the case is offered at once
    assert [o.agent_id for o in store.route(SOON).offers] == [full.id]


def test_an_offer_that_lapses_goes_to_the_next_agent_and_two_lapses_make_the_agent_busy(store):
    slow = _agent(store, "1001", idle_minutes=9)
    next_one = _agent(store, "1002", idle_minutes=1)
    a, b = _case(store, "chat:a"), _case(store, "chat:b")
    store.route(SOON)
    assert (_offered(store, a.id), _offered(store, b.id)) == (slow.id, next_one.id)
    store.decline_offer(b.id, next_one.id)  # next_one passes on b
    _expire(store, a.id)
    done = store.route(SOON)
    assert done.lapsed == [(a.id, slow.id)] and done.missed == []
    assert store.case(a.id).declined_by == (slow.id,)
    assert _offered(store, a.id) == next_one.id  # re-offered to the next agent
    assert _offered(store, b.id) == slow.id  # b: the agent who declined it is never offered it again
    _expire(store, b.id)
    done = store.route(SOON)
    assert done.lapsed == [(b.id, slow.id)] and done.missed == [slow.id]
    p = store.presence(slow.id)
    assert (p.status, p.reason, p.label) == (AgentStatus.BUSY, "未接来单", "示忙（未接来单）")
    assert _offered(store, b.id) is None  # nobody left who has not passed on b...
    store.accept_offer(a.id, next_one.id)  # next_one is free again (2 places left) and has passed on b
    assert store.route(SOON).offers == []
    with store.sessions.begin() as s:  # ...until a minute after its last offer: then a new round
        s.execute(update(m.CaseNote).where(m.CaseNote.case_id == b.id).values(at=m.utcnow() - dt.timedelta(seconds=59)))
    assert store.route(SOON).offers == [] and store.case(b.id).declined_by == (next_one.id, slow.id)
    with store.sessions.begin() as s:
        s.execute(update(m.CaseNote).where(m.CaseNote.case_id == b.id).values(at=m.utcnow() - dt.timedelta(seconds=61)))
    store.route(SOON)  # the round clears who passed; the next round offers it
    assert [(o.case_id, o.agent_id) for o in store.route(SOON).offers] == [(b.id, next_one.id)]
    with store.sessions() as s:
        outcomes = [d["outcome"] for d in s.scalars(select(m.CaseNote.detail).where(m.CaseNote.case_id == a.id))]
    assert outcomes == ["offered", "lapsed", "offered", "accepted"]


def test_accept_claims_the_case_and_a_second_accept_or_decline_is_refused_in_chinese(store):
    agent = _agent(store, "1001")
    other = _agent(store, "1002", idle_minutes=-1)
    case = _case(store, "chat:a")
    store.route(SOON)
    assert _offered(store, case.id) == agent.id
    with pytest.raises(OfferGone) as refused:
        store.accept_offer(case.id, other.id)  # not offered to them
    assert refused.value.message == "这次来单已经超时，已转给其他同事"
    claimed = store.accept_offer(case.id, agent.id)
    assert (claimed.status, claimed.agent_id, claimed.offered_to) == (CaseStatus.CLAIMED, agent.id, None)
    assert store.presence(agent.id).claimed == 1 and store.presence(agent.id).idle_since >= claimed.claimed_at
    with pytest.raises(OfferGone) as refused:
        store.decline_offer(case.id, other.id)
    assert refused.value.message == TAKEN


def test_leaving_available_or_logging_out_withdraws_the_offer(store):
    agent = _agent(store, "1001")
    case = _case(store, "chat:a")
    store.route(SOON)
    store.set_status(agent.id, "break", "用餐")
    assert _offered(store, case.id) is None and store.case(case.id).declined_by == ()
    store.set_status(agent.id, "available")
    store.route(SOON)
    store.go_offline(agent.id)
    assert _offered(store, case.id) is None and store.presence(agent.id).status == AgentStatus.OFFLINE


def test_a_manual_claim_or_a_supervisors_assignment_withdraws_the_offer(store):
    agent, colleague = _agent(store, "1001"), _agent(store, "1002", idle_minutes=-1)
    boss = _agent(store, "9001", role="supervisor")
    a, b = _case(store, "chat:a"), _case(store, "chat:b")
    store.route(SOON)
    assert _offered(store, a.id) == agent.id
    store.claim(a.id, boss.id)
    with pytest.raises(OfferGone) as refused:
        store.accept_offer(a.id, agent.id)
    assert refused.value.message == TAKEN
    assigned = store.assign(b.id, colleague.id, by=boss.id)
    assert (assigned.status, assigned.agent_id) == (CaseStatus.CLAIMED, colleague.id)
    with pytest.raises(OfferGone):
        store.assign(b.id, agent.id, by=boss.id)


def test_a_transfer_to_a_group_is_offered_afresh(store):
    repair = _agent(store, "1001", ["repair"])
    case = _case(store, "chat:a")  # billing: nobody qualified
    assert store.route(SOON).offers == []
    billing = _agent(store, "1002", ["billing"])
    store.route(SOON)
    store.decline_offer(case.id, billing.id)
    claimed = store.claim(case.id, billing.id)
    store.to_group(claimed.id, "repair")
    assert [(o.case_id, o.agent_id) for o in store.route(SOON).offers] == [(case.id, repair.id)]


def _race(store: ContactStore, case_id: int, offered: int, colleague: int) -> list[tuple[str, object]]:
    """The offered agent accepts in two tabs while a colleague claims from the queue, all at once."""
    barrier = threading.Barrier(3)
    results: list[tuple[str, object]] = []

    def accept() -> None:
        barrier.wait()
        try:
            results.append(("won", store.accept_offer(case_id, offered).agent_id))
        except OfferGone as e:
            results.append(("lost", e.message))

    def claim() -> None:
        barrier.wait()
        try:
            results.append(("won", store.claim(case_id, colleague).agent_id))
        except Conflict:
            results.append(("lost", "claim"))

    threads = [threading.Thread(target=accept), threading.Thread(target=accept), threading.Thread(target=claim)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_an_accept_racing_a_colleagues_claim_or_a_second_tab_has_one_winner(store):
    offered, colleague = _agent(store, "1001"), _agent(store, "1002", idle_minutes=-1)
    store.set_status(colleague.id, "busy", "会议")  # only `offered` is routed to
    for round_ in range(3):
        case = _case(store, f"chat:{round_}")
        store.route(SOON)
        assert _offered(store, case.id) == offered.id
        results = _race(store, case.id, offered.id, colleague.id)
        winners = [who for outcome, who in results if outcome == "won"]
        assert len(winners) == 1 and store.case(case.id).agent_id == winners[0]
        lost = {why for outcome, why in results if outcome == "lost"}
        assert len(results) == 3 and lost <= {TAKEN, "这个会话您已经接起了", "claim"}
        store.finish(case.id, "closed", "resolved")


def test_two_routers_at_once_never_offer_one_case_twice_or_two_cases_to_one_agent(store):
    agents = [_agent(store, f"10{i:02d}", idle_minutes=i) for i in range(3)]
    cases = [_case(store, f"chat:{i}") for i in range(6)]
    barrier, offers = threading.Barrier(4), []

    def router() -> None:
        barrier.wait()
        offers.extend(store.route(SOON).offers)

    threads = [threading.Thread(target=router) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(offers) == 3
    assert len({o.case_id for o in offers}) == 3 and {o.agent_id for o in offers} == {a.id for a in agents}
    held = [store.case(c.id).offered_to for c in cases]
    assert sorted(x for x in held if x) == sorted(a.id for a in agents)

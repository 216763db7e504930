"""Findings 1, 5, 6, 7 of the security review: identity bound to one account, attempt limits, disclosure
without verification, and verification that never outlives its session. Real Rasa, actions and database."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from backend.db import make_engine, make_sessionmaker
from backend.identity import CHANGE, LIMITS, READ, Check, IdentityStore
from tests.conftest import DEMO_PASSWORD, Conversation


def customers(url: str, n: int, skip: int = 0) -> list[tuple[str, str, str]]:
    """(户号, phone, name) of ordinary synthetic customers, a different slice per test (lockouts persist)."""
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT account_no, phone, name FROM customers WHERE account_no NOT LIKE '320100000%' "
                "ORDER BY account_no LIMIT :n OFFSET :skip"
            ),
            {"n": n, "skip": skip},
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def phone_of(url: str, account: str) -> str:
    engine = create_engine(url)
    with engine.connect() as c:
        phone = c.execute(text("SELECT phone FROM customers WHERE account_no = :a"), {"a": account}).scalar_one()
    engine.dispose()
    return phone


@pytest.fixture
def talk(stack):
    return lambda **kw: Conversation(stack.rasa_url, **kw)


def verified_for(c: Conversation, request: str, account: str, phone: str) -> str:
    """The customer asks, gives their own 户号 and last four (a real verification); the bot's last reply."""
    c.say(request)
    c.say(account)
    return c.say(phone[-4:])


# --- 1. a verified customer names another 户号 -----------------------------------------------------------
def test_another_account_bill_needs_its_own_check(talk, seeded_db_url, unchanged):
    (mine, my_phone, _), (other, _, _) = customers(seeded_db_url, 2, skip=0)
    c = talk()
    verified_for(c, "查电费", mine, my_phone)
    assert "元" in c.say("上个月")  # my own bill, after my own check
    reply = c.say(f"{other} 上个月")
    assert "元" not in reply and "后四位" in reply  # the other account: its own last four first
    assert "元" not in c.say("1234" if not phone_of(seeded_db_url, other).endswith("1234") else "4321")


def test_another_account_phone_change_is_refused(talk, seeded_db_url, unchanged):
    (mine, my_phone, my_name), (other, other_phone, _) = customers(seeded_db_url, 2, skip=2)
    c = talk()
    verified_for(c, "我要改登记的手机号", mine, my_phone)
    c.say(my_name)
    reply = c.say(f"不对，是户号{other}的，新号码13800138000")
    assert "后四位" in reply or "姓名" in reply
    c.say("对")
    assert phone_of(seeded_db_url, other) == other_phone


def test_phone_change_needs_the_holders_name_too(talk, seeded_db_url, unchanged):
    [(account, phone, name)] = customers(seeded_db_url, 1, skip=4)
    c = talk()
    assert "姓名" in verified_for(
        c, "帮我换一下预留手机号", account, phone
    )  # the last four are not enough to change contact data
    assert "不一致" in c.say("张三丰" if name != "张三丰" else "李四")
    c.say("13800138001")
    c.say("对")
    assert phone_of(seeded_db_url, account) == phone


def test_tou_for_another_account_needs_its_own_check(talk, seeded_db_url, unchanged):
    (mine, my_phone, _), (other, _, _) = customers(seeded_db_url, 2, skip=5)
    c = talk()
    verified_for(c, "查一下我的余额", mine, my_phone)
    reply = c.say(f"再帮户号{other}开通峰谷电")
    assert "后四位" in reply and "已为您受理" not in reply


# --- 5. guessing the last four ------------------------------------------------------------------------
def test_wrong_last_four_lock_the_conversation(talk, seeded_db_url, unchanged):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=8)
    wrong = "0000" if not phone.endswith("0000") else "1111"
    c = talk()
    c.say("查余额")
    c.say(account)
    replies = [c.say(wrong) for _ in range(LIMITS["conversation"])]
    assert "次数太多" in replies[-1]
    c.say("查余额")
    c.say(account)
    assert "元" not in c.say(phone[-4:])  # locked: even the right answer is refused now


def test_guesses_across_senders_lock_the_account_and_are_recorded(stack, talk, seeded_db_url, unchanged):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=9)
    wrong = "0000" if not phone.endswith("0000") else "1111"
    for i in range(LIMITS["account"]):  # a new sender id for every guess
        c = talk(metadata={"channel": "chat", "client": f"10.9.9.{i}"})
        c.say("查余额")
        c.say(account)
        c.say(wrong)
    c = talk(metadata={"channel": "chat", "client": "10.9.9.99"})
    c.say("查余额")
    c.say(account)
    assert "次数太多" in c.say(phone[-4:]) and "元" not in c.replies_text
    events = IdentityStore(make_sessionmaker(make_engine(seeded_db_url))).security_events()
    assert any(
        e.kind == "identity_lockout" and e.subject.endswith(account[-4:]) and account not in e.subject for e in events
    )
    supervisor = requests.Session()  # and the supervisor sees it on the console
    page = supervisor.get(f"{stack.console_url}/console/login", timeout=10).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    supervisor.post(
        f"{stack.console_url}/console/login",
        timeout=30,
        headers={"Origin": stack.console_url},
        data={"username": "9001", "password": DEMO_PASSWORD, "csrf": csrf},
    )
    shown = supervisor.get(f"{stack.console_url}/console/supervisor", timeout=10).text
    assert "身份核验多次失败" in shown and f"******{account[-4:]}" in shown and account not in shown


def test_unknown_and_known_accounts_get_the_same_answers(talk, seeded_db_url):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=10)
    answers = []
    for candidate in (account, "3299999999"):
        c = talk()
        c.say("查余额")
        said = (c.say(candidate), c.say("0000" if not phone.endswith("0000") else "1111"))
        answers.append(tuple(t.replace(candidate, "<户号>") for t in said))  # the 户号 heard is read back
    assert answers[0] == answers[1]


# --- 6. progress and reporter identity without verification -------------------------------------------
def file_theft_report(c: Conversation, opening: str, phone: str) -> str:
    """A 窃电举报 filed to the end (answering the read-back and any contact question); its order number."""
    c.say(opening)
    for _ in range(4):
        if "工单号" in c.replies_text:
            break
        c.say("对" if "对吗" in c.replies_text else phone)
    found = re.search(r"G\s*\d{4}\s*\d{4}\s*\d{3}", c.replies_text)
    assert found, c.replies_text
    return found.group().replace(" ", "")


def test_progress_by_account_needs_verification(talk, seeded_db_url):
    file_theft_report(talk(), "我要举报窃电，城东区和平路18号有人私拉电线", "13912340001")
    snoop = talk()
    snoop.say("查一下工单进度")
    reply = snoop.say("3201000001")
    assert "G" not in reply and "窃电" not in reply and "后四位" in reply


def test_progress_by_order_number_tells_strangers_only_that_it_exists(talk, seeded_db_url):
    owner = talk()
    number = file_theft_report(owner, "举报窃电，城西区建设路9号门面私接电表", "13912340002")
    told = owner.say(f"查一下工单{number}的进度")
    assert "已派给" in told or "受理" in told or "目前" in told  # the filer hears the status
    stranger = talk()
    stranger.say(f"查询工单{number}进度")
    for _ in range(2):
        if "为了保护客户信息" in stranger.replies_text:
            break
        stranger.say("0000")
    said = stranger.replies_text
    assert "目前" not in said and "139" not in said and "窃电" not in said and "3201" not in said
    assert "已派给" not in said and "负责" not in said and "预计" not in said  # nor who has it, nor when


# --- 7. verification never outlives its session -------------------------------------------------------
def test_verification_is_not_carried_into_a_new_session(talk, seeded_db_url):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=11)
    c = talk()
    assert "余额" in verified_for(c, "查余额", account, phone) and "后四位" not in c.replies_text
    c.say("/session_start")
    c.say("查余额")
    assert "余额" not in c.replies_text and ("户号" in c.replies_text or "后四位" in c.replies_text)


def test_verification_lapses_after_fifteen_idle_minutes(seeded_db_url):
    clock = [dt.datetime(2026, 12, 3, 9, 0)]
    store = IdentityStore(make_sessionmaker(make_engine(seeded_db_url)), now=lambda: clock[0])
    conversation = f"idle-{uuid.uuid4().hex[:8]}"
    assert store.attempt(conversation, "", "3201000004", True) is Check.OK
    clock[0] += dt.timedelta(minutes=14)
    assert store.verified(conversation, "3201000004")  # used: the 15 minutes start again
    clock[0] += dt.timedelta(minutes=14)
    assert store.verified(conversation, "3201000004", READ)
    assert not store.verified(conversation, "3201000004", CHANGE)  # last four only: not enough to change data
    assert not store.verified(conversation, "3201000003")  # another account
    clock[0] += dt.timedelta(minutes=16)
    assert not store.verified(conversation, "3201000004")

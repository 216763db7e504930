"""Satisfaction on WeChat (issue 17 item 5): after the end-of-service question, a reply that is a score is stored
against the open rating and thanked; any other text, and a score when nothing is open, goes to the bot. Signed
pushes in WeChat's shapes to the real console app (its webhook, database and ratings)."""

from __future__ import annotations

import hashlib
import secrets
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from console.wechat_rating import THANKS
from tests.console.console_app import WECHAT_TOKEN, running_console

AGENTS = (("1001", "张丽", "agent"),)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    with running_console(f"sqlite:///{tmp_path_factory.mktemp('wxrating') / 'w.db'}", AGENTS) as running:
        yield running


def push(console, openid: str, text: str) -> str:
    """One text message as WeChat pushes it; the passive reply's content."""
    ts, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, ts, nonce])).encode()).hexdigest()
    body = (
        f"<xml><ToUserName><![CDATA[gh_workspace]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
        f"<MsgId>{secrets.randbelow(10**17)}</MsgId></xml>"
    )
    r = requests.post(
        f"{console.url}/wechat", params={"signature": signature, "timestamp": ts, "nonce": nonce},
        data=body.encode(), timeout=20,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return ET.fromstring(r.text).findtext("Content") or ""


def user_turns(console, conversation: str) -> list[str]:
    return [e["text"] for e in console.rasa.trackers.get(conversation, []) if e.get("event") == "user"]


def asked_after_a_case(console, openid: str) -> str:
    """An agent's WeChat case ended and its rating asked (as console/satisfaction.py does when a case ends)."""
    conversation = f"wechat:{openid}"
    case, _ = console.contact.escalate(conversation, "wechat", "customer_request", summary="转人工", context={})
    agent = console.contact.agent_by_username("1001")
    console.contact.claim(case.id, agent.id)
    console.contact.finish(case.id, "closed", "resolved")
    return console.contact.ask(conversation, "wechat", case_id=case.id, agent_id=agent.id)


def test_a_score_answers_the_open_rating_and_is_thanked_then_the_bot_has_the_next_text(console):
    openid = "oWX-rating-0001"
    key = asked_after_a_case(console, openid)
    assert push(console, openid, "5") == THANKS
    rating = console.contact.rating(key)
    assert rating.score == 5 and rating.agent_id == console.contact.agent_by_username("1001").id
    assert user_turns(console, f"wechat:{openid}") == []  # the bot never saw the "5"
    assert any(e.get("text") == THANKS for e in console.rasa.trackers[f"wechat:{openid}"])  # in the record
    assert push(console, openid, "5") == console.rasa.reply  # nothing open any more: the bot answers
    assert user_turns(console, f"wechat:{openid}") == ["5"] and console.contact.rating(key).score == 5


@pytest.mark.parametrize(
    ("reply", "score", "comment"),
    [("很满意", 5, ""), ("满意", 4, ""), ("一般", 3, ""), ("不满意", 2, ""), ("很不满意", 1, ""),
     ("4，处理得很快", 4, "处理得很快"), ("1", 1, "")],
)  # fmt: skip
def test_the_scale_words_and_a_comment_are_stored(console, reply, score, comment):
    openid = f"oWX-scale-{secrets.token_hex(4)}"
    key = asked_after_a_case(console, openid)
    assert push(console, openid, reply) == THANKS
    rating = console.contact.rating(key)
    assert (rating.score, rating.comment) == (score, comment)


def test_other_text_goes_to_the_bot_and_the_rating_stays_open(console):
    openid = "oWX-rating-0002"
    key = asked_after_a_case(console, openid)
    assert push(console, openid, "我家又停电了") == console.rasa.reply
    assert push(console, openid, "5号楼停电") == console.rasa.reply  # a number in a sentence is no score
    assert user_turns(console, f"wechat:{openid}") == ["我家又停电了", "5号楼停电"]
    assert console.contact.rating(key).score is None
    assert push(console, openid, "3") == THANKS and console.contact.rating(key).score == 3


def test_a_score_with_no_rating_asked_goes_to_the_bot(console):
    assert push(console, "oWX-rating-never-asked", "5") == console.rasa.reply
    assert user_turns(console, "wechat:oWX-rating-never-asked") == ["5"]

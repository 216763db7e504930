"""Whole conversations over the REST channel against the real servers (Rasa, actions, knowledge)."""

from __future__ import annotations

import re

import pytest
import requests

from backend.db import make_engine, make_sessionmaker
from backend.synthetic import counts

ORDER = re.compile(r"G ?(\d{4}) ?(\d{4}) ?(\d{3})")


def order_number(reply: str) -> str:
    m = ORDER.search(reply)
    assert m, f"no work-order number in: {reply}"
    return "G" + "".join(m.groups())


def test_repair_report_creates_a_stored_work_order(conversation, cis):
    c = conversation()
    assert "地址" in c.say("我家停电了")
    told = c.say("城东区和平路12号3单元501室")
    assert "电话" in told and "城东区一网格" in told and "故障停电" in told  # the area's known outage, at once
    readback = c.say("13912340001")
    assert "核对" in readback and "和平路12号" in readback and not ORDER.search(readback)  # nothing filed yet
    assert readback.index("如果现场有冒烟") > readback.index("联系电话")  # no danger said: asked last
    reply = c.say("对")
    number = order_number(reply)
    order = cis.get_work_order(number)
    assert order is not None and order.function_id == "fault_repair"
    assert order.details["address"] == "城东区和平路12号3单元501室"
    assert order.details["contact_phone"] == "13912340001" and order.priority == "normal"
    assert "一并核实" in reply and "故障停电" not in reply  # the outage is not told twice


def test_a_bare_no_to_the_danger_line_is_no_danger_not_a_correction(conversation, cis):
    c = conversation()
    c.say("喂 你好 我家没电了")
    c.say("城西区建设路45号")
    readback = c.say("13800001111")
    assert readback.rstrip().endswith("对吗？") and "如果现场有冒烟" in readback
    assert "情况：我家没电了" in readback  # the greeting is not read back as the problem
    again = c.say("没有")
    assert "没有危险" in again and "哪一项需要改" not in again and "如果现场有冒烟" not in again
    order = cis.get_work_order(order_number(c.say("对的")))
    assert order.details["address"] == "城西区建设路45号" and order.priority == "normal"


@pytest.mark.parametrize(
    ("problem", "address", "phone", "no_danger"),
    [
        ("家里没电了", "城南区中山路8号5栋2单元201室", "13800002222", "没有危险"),
        ("我家停电了", "城北区解放路66号2栋", "13800003333", "没有，啥也没有"),  # said twice, in other words
        ("我家没电了", "城西区建设路88号5栋302", "13800007777", "没有 啥也没冒"),  # the danger line's verb
    ],
)
def test_no_danger_said_in_other_words_at_the_read_back_is_no_danger(
    conversation, cis, problem, address, phone, no_danger
):
    c = conversation()
    c.say(problem)
    c.say(address)
    assert "如果现场有冒烟" in c.say(phone)
    again = c.say(no_danger)
    assert "没有危险" in again and "哪一项需要改" not in again
    order = cis.get_work_order(order_number(c.say("对")))
    assert order.details["address"] == address and order.priority == "normal"


def test_thanks_at_the_read_back_says_nothing_is_filed_yet_and_a_yes_then_files_it(conversation, cis, seeded_db_url):
    c = conversation()
    c.say("家里电压忽高忽低的，灯一闪一闪")
    c.say("江北区李家村三组16号")
    assert "核对" in c.say("13800006666")
    before = counts(make_sessionmaker(make_engine(seeded_db_url)))["work_orders"]
    reply = c.say("没有了，谢谢")
    assert "还没有提交" in reply and "电压" in reply and "再见" not in reply and reply.endswith("对吗？")
    assert counts(make_sessionmaker(make_engine(seeded_db_url)))["work_orders"] == before  # nothing filed by a thanks
    order = cis.get_work_order(order_number(c.say("对")))
    assert order.function_id == "power_quality" and order.details["address"] == "江北区李家村三组16号"
    assert counts(make_sessionmaker(make_engine(seeded_db_url)))["work_orders"] == before + 1


def test_correction_and_danger_make_an_urgent_order(conversation, cis):
    c = conversation()
    c.say("家里跳闸了推不上去，地址是城西区建设路45号")
    assert "电话" in c.say("不对，地址是城南区中山路8号5栋")  # corrected, then the pending question again
    assert "核对" in c.say("13800001111")
    reply = c.say("不对，有电线在冒烟")
    assert "远离" in reply and "紧急" in reply  # safety advice first, then the corrected read-back
    number = order_number(c.say("对的"))
    order = cis.get_work_order(number)
    assert order.details["address"] == "城南区中山路8号5栋" and order.priority == "urgent"


def test_bill_query_checks_identity(conversation, cis):
    c = conversation()
    assert "户号" in c.say("帮我查一下电费")
    assert "后四位" in c.say("9999999999")  # whether a 户号 exists is never said
    assert "后四位" in c.say("我的户号是3201000001")
    assert "对不上" in c.say("1234")
    assert "哪个月" in c.say("0001")
    reply = c.say("上个月")
    bill = cis.get_bill("3201000001")
    assert f"{bill.amount:.2f}元" in reply and f"{bill.kwh:g}度" in reply
    assert "13912340001" not in reply  # nothing about the customer beyond what was asked


def test_cancel_and_side_question_inside_a_form(conversation, cis):
    c = conversation()
    c.say("我要查电费")
    side = c.say("电费可以在哪里交啊")
    assert "户号" in side and len(side) > 20  # answered, then the form asks again
    assert "取消" in c.say("算了，不查了")
    assert "户号" not in c.say("谢谢")


def test_answer_kind_gives_channels(conversation):
    reply = conversation().say("怎么开电子发票")
    assert "App" in reply or "公众号" in reply


def test_human_agent_creates_a_callback_order(conversation, cis):
    c = conversation(metadata={"channel": "chat", "caller": "13912340003"})
    reply = c.say("转人工")
    order = cis.get_work_order(order_number(reply))
    assert order.function_id == "human_agent" and "0003" in reply
    assert order.details["transcript"][0]["text"] == "转人工"


def test_two_misunderstandings_offer_a_human(conversation):
    c = conversation()
    first = c.say("啊啊啊啊啊啊")
    assert c.buttons or "换个说法" in first
    second = c.say("呜呜呜呜呜")
    assert "人工" in second


def test_bad_input_gets_a_polite_reply_and_the_conversation_goes_on(conversation, seeded_db_url, stack):
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    before = counts(sessions)
    c = conversation()
    for text in [
        "",
        "   ",
        "😀😀😀",
        "？？？！！",
        "电" * 20000,
        "'; DROP TABLE customers; --",
        "<script>alert(1)</script>",
        "my power is out, help",
    ]:
        reply = c.say(text)
        assert reply.strip(), f"no reply to {text[:20]!r}"
    assert counts(sessions) == before  # nothing stored was changed, no stray work orders
    assert "地址" in c.say("我家停电了")
    parse = requests.post(stack.api("/model/parse"), json={"text": "家里没电了"}, timeout=30).json()
    assert parse["intent"]["name"] == "fault_repair"


def test_a_call_that_opens_with_a_greeting_is_served_its_request(conversation):
    """ "喂 你好 …" is how a phone call starts: the request in the same breath is what is served."""
    c = conversation(metadata={"channel": "voice"})
    assert "地址" in c.say("喂 你好 我家又停电了 这是咋回事啊")


def test_a_request_behind_greeting_words_is_not_greeted_back(conversation, stack):
    """DIET leans on "喂 喂 小伙子" (a greeting, unsure); the matcher is confident of the balance query behind it."""
    said = "喂 喂 小伙子 我那个户头里还有钱没得"
    parse = requests.post(stack.api("/model/parse"), json={"text": said}, timeout=30).json()
    assert parse["intent"]["name"] == "balance_query"
    c = conversation(metadata={"channel": "voice"})
    reply = c.say(said)
    assert "户号" in reply and "有什么可以帮您" not in reply
    assert "有什么可以帮您" in conversation(metadata={"channel": "voice"}).say("喂喂 你好 听得到吗")


def test_another_service_asked_after_filing_is_not_added_to_the_order(conversation, cis):
    c = conversation()
    assert "电话" in c.say("我要投诉 你们供电所的人态度太差了")
    assert "核对" in c.say("13912340001")
    number = order_number(c.say("对"))
    note = cis.get_work_order(number).details.get("note")
    reply = c.say("我咋充值 微信能充不")
    assert "补充到工单" not in reply
    assert cis.get_work_order(number).details.get("note") == note  # the complaint is as it was filed

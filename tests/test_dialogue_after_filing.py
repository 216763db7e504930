"""The read-back and the moments after filing, from two unscripted reviews (2026-12-05): what the customer adds or
changes is taken, a question is answered rather than filed, and asking is never doing. Judged by the database."""

from __future__ import annotations

from actions import extract
from tests.test_dialogue_quality import orders


def test_an_addition_at_the_read_back_is_read_back_and_filed(conversation, seeded_db_url):
    c = conversation()
    for line in ("我要投诉 上周来修电的师傅态度太差了 约好上午来 下午四点才到", "13912340001"):
        c.say(line)
    readback = c.say("还有他骂人那个你也写上啊")
    assert "；他骂人" in readback and "核对" in readback
    c.say("对")
    [order] = orders(seeded_db_url, c.sender)
    assert "他骂人" in str(order.details) and "写上" not in str(order.details)


def test_the_read_back_is_changed_in_its_own_words_not_switched_to_another_service(conversation, seeded_db_url):
    c = conversation()
    for line in ("我家电表走得特别快", "城西区建设路88号5单元302", "13955556666"):
        c.say(line)
    which = c.say("要修改")  # the read-back's own button, typed
    assert "哪一项" in which and "联系方式变更" not in which
    again = c.say("情况改成：这个月没怎么用电，度数却特别高")
    assert "情况：这个月没怎么用电，度数却特别高" in again
    wife = c.say("算了 电话改一下吧 留我老婆的 13700001111")  # this order's contact, not the registered phone
    assert "13700001111" in wife and "核对" in wife and "户号" not in wife
    c.say("对的")
    [order] = orders(seeded_db_url, c.sender)
    assert order.function_id == "meter_issue" and order.details["contact_phone"] == "13700001111"
    assert order.details["details"] == "这个月没怎么用电，度数却特别高"


def test_after_filing_a_question_is_answered_and_asking_about_the_order_does_not_withdraw_it(
    conversation, seeded_db_url
):
    c = conversation()
    for line in ("我家电表走得特别快", "城西区建设路88号5单元302", "13955556666", "对"):
        c.say(line)
    answer = c.say("校验电表要收钱吗？要是表没问题呢")
    assert "补充到工单" not in answer and "电表" in answer
    still = c.say("我那个单子还在吧 没被取消吧")
    assert "撤销" not in still.replace("没有撤销", "") and "工单" in still
    [order] = orders(seeded_db_url, c.sender)
    assert order.status != "withdrawn" and "收钱" not in str(order.details)


def test_asking_whether_there_are_people_files_nothing(conversation, seeded_db_url):
    c = conversation()
    reply = c.say("你们有人工客服吗 我就问问 现在先不找")
    assert "转人工" in reply and "工单" not in reply
    assert orders(seeded_db_url, c.sender) == []


def test_a_question_asked_instead_of_an_answer_is_answered_then_asked_again(conversation):
    c = conversation()
    c.say("我家厨房插座没电了 其他地方都有电")
    reply = c.say("这种你们管吗？插座坏了是不是得自己找电工")
    assert "电工" in reply and "地址" in reply and "记下了" not in reply


def test_an_order_number_said_is_not_an_account_number():
    assert extract.account_no("好像是G2612050000几来着") is None
    assert extract.account_no("户号3201000001") == "3201000001"


def test_hold_on_with_a_question_at_the_read_back_is_answered_and_nothing_else_is_started(conversation, seeded_db_url):
    c = conversation()
    for line in ("我家电表走得特别快", "城西区建设路88号5单元302", "13955556666"):
        c.say(line)
    assert "核对" in c.replies_text
    held = c.say("先别提交 我问你 租房的能不能报修？")
    assert "故障报修" not in held and "工单号" not in held and not orders(seeded_db_url, c.sender)
    c.say("对")
    [order] = orders(seeded_db_url, c.sender)
    assert order.function_id == "meter_issue" and order.details["address"] == "城西区建设路88号5单元302"

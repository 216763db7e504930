"""After an order's progress is told: a chase is about that order and is noted on it, and the field worker's own
number is not what 联系方式变更 is for; what a screen shows of an article and of an old bill. From an unscripted
review (2026-12-05). Judged by the database."""

from __future__ import annotations

import datetime as dt

from tests.security.test_identity_binding import customers, verified_for


def filed_on_the_hotline(cis, seeded_db_url: str, skip: int):
    """A repair order of another customer's account, filed by phone (not in the chat under test); and the
    account's registered phone, whose last four prove it."""
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=skip)
    filed = cis.create_work_order(
        "fault_repair", "hotline", {"address": "城东区和平路18号", "details": "家里没电了"}, account_no=account
    )
    return filed, phone


def test_a_chase_right_after_progress_chases_that_order_and_notes_it(conversation, cis, seeded_db_url):
    filed, phone = filed_on_the_hotline(cis, seeded_db_url, skip=40)
    c = conversation()
    c.say(f"查一下工单{filed.number}的进度")
    told = c.say(phone[-4:])  # the account's proof, asked for because this chat did not file the order
    assert filed.number in told and "后四位" not in told
    chased = c.say("帮我催一下")
    assert f"已为您催办工单{filed.number}" in chased and "工单号" not in chased.replace(filed.number, "")
    notes = [note for _, note, _ in cis.get_work_order(filed.number).history]
    assert any(note.startswith("客户催办") for note in notes)


def test_asking_for_the_workers_number_tells_progress_not_a_contact_change(conversation, cis, seeded_db_url):
    c = conversation()
    c.say("我家停电了")
    for line in ("城西区建设路88号5单元302", "13955556666", "对"):
        c.say(line)
    assert "工单号" in c.replies_text
    asked = c.say("能给我张师傅的电话吗")
    assert "个人电话不便提供" in asked and "联系方式变更" not in asked and "新手机号" not in asked


def test_an_article_is_written_for_a_screen_and_spoken_on_a_call(conversation):
    chat = conversation().say("我家停水了 水费该找谁啊")
    call = conversation(metadata={"channel": "voice"}).say("我家停水了 水费该找谁啊")
    assert "12345" in chat and "一二三四五" not in chat
    assert "一二三四五" in call


def test_a_month_older_than_a_year_is_told_as_too_old_not_as_not_billed_yet(conversation, seeded_db_url):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=41)
    today = dt.date.today()
    old = f"{today.year - 1}年{today.month - 1 or 12}月" if today.month > 1 else f"{today.year - 2}年12月"
    c = conversation()
    told = verified_for(c, f"查一下{old}的电费", account, phone)  # 13 months back: the bills kept are the last 12
    assert f"{old}的账单查不到了" in told and "还没出" not in told


def test_never_mind_then_another_month_is_an_answer_not_leaving(conversation, seeded_db_url):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=42)
    c = conversation()
    assert "哪个月" in verified_for(c, "查下电费", account, phone)
    told = c.say("算了 那夏天8月份多少")
    assert "8月的电费是" in told and "取消" not in told
    c = conversation()
    verified_for(c, "查下电费", account, phone)
    told = c.say("算了 那十月份呢")  # read as cancel by the NLU (0.94)
    assert "10月的电费是" in told and "取消" not in told


def test_never_mind_then_another_month_after_a_bill_is_that_months_bill(conversation, seeded_db_url):
    [(account, phone, _)] = customers(seeded_db_url, 1, skip=43)
    c = conversation()
    assert "的电费是" in verified_for(c, "查下上个月电费", account, phone)
    told = c.say("哦 算了 那九月呢 九月好像特别贵")
    assert "9月的电费是" in told and "没有正在办理" not in told
    last_year = c.say("那去年8月份的呢")
    assert "8月的账单查不到了" in last_year


def test_after_progress_how_long_is_a_question_and_a_chase_with_a_reason_is_a_chase(conversation, cis):
    """From a newcomer's chat (2026-12-05): "还要多久啊" was read as a yes to "还有别的需要吗", and a chase that
    gave its reason (an old person at home) got the planned-outage advice."""
    c = conversation()
    c.say("家里没电了 邻居家有电")
    c.say("城西区建设路66号2单元302 电话13912340002 没冒烟")
    filed = c.say("那就提交吧 让人来看看")  # a yes at the read-back
    number = next(o.number for o in cis.conversation_orders(c.sender))
    assert number in filed
    c.say("工单现在到哪一步了")
    again = c.say("还要多久啊")
    assert number in again and "办理什么业务" not in again
    chased = c.say("那你帮我催一下 家里有老人 冰箱里还有东西")
    assert f"已为您催办工单{number}" in chased and "制氧机" not in chased
    notes = [note for _, note, _ in cis.get_work_order(number).history]
    assert any(note.startswith("客户催办：那你帮我催一下") for note in notes)
    assert len(cis.conversation_orders(c.sender)) == 1


def test_a_chase_with_the_order_number_is_a_chase_not_a_complaint(conversation, cis, seeded_db_url):
    """From an unscripted review (2026-12-06): "单号G… 到现在还没人来" was filed as a complaint."""
    filed, phone = filed_on_the_hotline(cis, seeded_db_url, skip=41)
    c = conversation()
    c.say(f"你好 我早上报的停电 单号{filed.number} 到现在还没人来 能不能催一下")
    told = c.say(phone[-4:])
    assert f"已为您催办工单{filed.number}" in told
    assert cis.conversation_orders(c.sender) == []  # no complaint filed


def test_hurry_up_right_after_the_progress_is_a_chase_not_a_goodbye(conversation, cis):
    c = conversation(metadata={"channel": "voice"})
    c.say("家里没电了 邻居家有电")
    c.say("城西区建设路66号2单元302 电话13912340002 没冒烟")
    c.say("对")
    [order] = cis.conversation_orders(c.sender)
    c.say("现在咋样了 啥时候来人")
    chased = c.say("那麻烦你们快点 那边小孩子多")
    assert "催办" in chased and "再见" not in chased
    notes = [note for _, note, _ in cis.get_work_order(order.number).history]
    assert any(note.startswith("客户催办：那麻烦你们快点") for note in notes)


def test_by_the_way_at_the_read_back_is_a_question_and_when_power_returns_tells_the_order(conversation, cis):
    """From an unscripted review (2026-12-06): "对了 问一下…" at the read-back filed the order; "什么时候能来电"
    right after filing offered another report."""
    c = conversation()
    c.say("家里没电了 邻居家有电")
    c.say("城西区建设路66号2单元302 电话13912340002 没冒烟")
    asked = c.say("对了 问一下 电费能用微信交吗")
    assert cis.conversation_orders(c.sender) == [] and "工单号" not in asked
    c.say("对 提交吧")
    [order] = cis.conversation_orders(c.sender)
    when = c.say("什么时候能来电")
    assert order.number in when and "登记报修" not in when
    assert len(cis.conversation_orders(c.sender)) == 1

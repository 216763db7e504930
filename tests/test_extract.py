"""Slot extraction and Chinese negation on their own (the conversations in test_dialogue_quality use them)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions import acts, descriptions, extract, places
from nlu.escalation import escalation_reason


@pytest.mark.parametrize(
    "text, danger",
    [
        ("没有冒烟打火", False),
        ("没冒烟也没打火", False),
        ("现在没冒烟也没打火，就是怕小孩子去摸", False),
        ("报修：城南区中山路45号3楼停电了，没有冒烟打火，联系电话13800138000", False),
        ("线断了掉在地上 还在冒火花", True),
        ("不是冒烟，是有火花", True),
        ("黄河路跟长江路路口有根电线断了掉在地上", True),
        ("家里跳闸了推不上去", False),
        ("电断了好几个小时", False),
    ],
)
def test_negated_danger_is_not_danger(text, danger):
    assert extract.dangerous(text) is danger


def test_the_escalation_signal_skips_a_negated_danger_and_family_words():
    assert escalation_reason("没有着火，也没人触电") is None
    assert escalation_reason("楼下配电箱着火了") == "safety"
    assert escalation_reason("我妈的退休金每个月几号发") is None and escalation_reason("想帮爸妈的家也加上") is None
    assert escalation_reason("他妈的什么破服务") == "anger"


def test_one_hazard_vocabulary_danger_to_life_is_also_a_hazard():
    for said in ("小孩碰了拉线被电了一下", "变压器爆炸了", "有人受伤了"):
        assert escalation_reason(said) == "safety" and extract.dangerous(said)
    assert extract.dangerous("电线掉在地上了") and escalation_reason("电线掉在地上了") is None  # urgent, no alarm


@pytest.mark.parametrize(
    "text, answer",
    [
        ("没有没有，就是整栋楼都黑了", False),
        ("没看见有啥就是没点", False),
        ("不用了", False),
        ("好像有", True),
        ("对的没错", True),
        ("嗯呐，没毛病", True),
        ("说不准", None),
        ("不清楚", None),
        ("那就提交吧 让人来看看", True),
        ("那行", True),
        ("那不对", False),
        ("那个地址不对", None),
        ("对了 问一下 电费能用微信交吗", None),  # "by the way", not a yes
        ("对了", True),
    ],
)
def test_yes_no_reads_how_the_answer_starts(text, answer):
    assert extract.yes_no(text) is answer


@pytest.mark.parametrize(
    "text, address",
    [
        ("城东区和平路12号3单元501室", "城东区和平路12号3单元501室"),
        ("黄河路跟长江路路口有根电线断了掉在地上，还在冒火花！！", "黄河路跟长江路路口"),
        ("城南区东风路，加油站对面，电话15906183304", "城南区东风路加油站对面"),
        ("报修 我们这一片没电 高新区 哦不是 城北区文化路 文化路三十号", "城北区文化路30号"),
        ("在城东区胜利街 58号 门面房", "城东区胜利街58号"),
        ("哦不对不对，是城北区，朝阳路77号，刚搬过来搞混了", "城北区朝阳路77号"),
        ("我们小区有根电线耷拉下来了", None),
        ("推了好几次都不行，孩子还在家呢", None),
    ],
)
def test_addresses_with_district_street_and_number(text, address):
    assert places.address(text) == address


def test_numbers_as_people_give_them():
    assert extract.mobile("打我手机就行 139 1234 0001") == "13912340001"
    assert extract.mobile("幺八八 幺二三四 五六七八") == "18812345678"
    assert extract.mobile("158-5173-2096") == "15851732096"
    assert extract.account_no("三二零一 零零零 零零二") == "3201000002"
    assert extract.account_no("户号3201000008 哦不对 应该是3201000003") == "3201000003"
    assert extract.last4_alongside("3201000004 手机尾号0004") == "0004"
    assert extract.last4_alongside("3201000001 0001") == "0001"
    assert extract.last4_alongside("查电费　户号３２０１０００００３　尾号０００３") == "0003"


def test_connection_type_tells_business_from_home():
    assert extract.connection_type("我在城西区建设路88号盘了个门面开小饭馆，想新装一个电表，要用三相电") == "非居民新装"
    assert extract.connection_type("新房子要装电表") == "居民新装"
    assert extract.connection_type("家里想增容") == "增容"


def test_exits_in_the_customers_words():
    assert acts.rejects("我不报修 我要充值复电") and acts.rejects("先别办")
    assert acts.undoes("我没说要复电啊，他家现在是有电的")
    assert acts.withdraws("刚才那个单子帮我撤了吧") and acts.withdraws("帮我撤销吧")
    assert not acts.rejects("不对，电话是13800001111")


def test_a_sentence_is_not_taken_for_the_address_asked_for():
    assert places.address("没有没有，就是整栋楼都黑了", whole_text=True) is None
    assert places.address("菜市场门口", whole_text=True) == "菜市场门口"


def test_a_phone_number_never_becomes_part_of_an_address():
    from actions.followups import refined_address

    assert places.place_entity("就行 139 1234 0001") is None
    assert refined_address("城东区和平路12号3单元501", "就行 139 1234 0001") is None
    assert (
        refined_address("解放路和人民路交叉口", "城北区十字路口公交站旁边")
        == "城北区解放路和人民路交叉口十字路口公交站旁边"
    )


def test_a_not_a_is_a_question():
    assert acts.asks("看看还欠不欠钱") and acts.asks("有没有停电") and acts.asks("交没交电费")
    assert not acts.asks("我家没电了") and not acts.asks("不不不") and not acts.asks("好的")


def test_a_mobile_number_is_never_taken_for_an_order_number():
    assert extract.order_no("电话17368203319", bare_digits=True) is None
    assert extract.order_no("26120300043", bare_digits=True) == "G26120300043"
    assert extract.order_no("工单G26120300043") == "G26120300043"


def test_spoken_digits_read_as_typed_with_offsets_kept():
    from nlu.components.text_normalizer import normalize

    spoken = "电话幺五幺 二二三三 四四五五"
    assert normalize(spoken) == "电话151 2233 4455" and len(normalize(spoken)) == len(spoken)
    assert normalize("一个人") == "一个人"  # fewer than four digits: words, not a number


def test_one_part_of_an_address_corrected():
    assert places.corrected_part("哦不对 是3单元 不是2单元") == ("2单元", "3单元")
    assert places.corrected_part("不是5栋，是6栋") == ("5栋", "6栋")
    assert places.corrected_part("不是我家，是邻居家") is None


def test_leaving_is_a_done_phrase_not_any_thanks():
    for said in ("好的 没别的了 谢谢", "没有其他问题了，谢谢", "就先这样吧 再见", "没事了 谢谢你", "好的 谢谢 再见"):
        assert acts.leaving(said), said
    for said in ("好的谢谢", "谢谢 地址是和平路20号", "还有别的问题", "这样可以吗"):
        assert not acts.leaving(said), said


def test_a_tripping_leakage_protector_is_no_hazard_but_leaking_current_is():
    assert not extract.dangerous("那个漏电保护老是跳是咋回事啊，要不要紧")
    assert not extract.dangerous("漏保一直跳闸")
    assert extract.dangerous("墙上插座漏电了")
    assert extract.dangerous("漏电保护老跳，后来摸水龙头还漏电")


@pytest.mark.parametrize(
    ("text", "bare_no"),
    [
        ("没有", True),
        ("没有，啥也没有", True),
        ("都没有", True),
        ("什么都没", True),
        ("嗯，没有。", True),
        ("没有了，谢谢", False),
        ("没有，地址不对", False),
        ("没有问题", False),
        ("没错", False),
        ("没有冒烟吗", False),
    ],
)
def test_a_bare_no_after_the_danger_line_may_be_said_twice_or_in_other_words(text, bare_no):
    from actions.forms.confirm import BARE_NO

    assert bool(BARE_NO.match(text)) is bare_no


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("我家在幸福小区3栋2单元501，电话13912340001，家里停电了", "家里停电了"),
        ("城东区和平路12号3单元501室 从前天开始的", "从前天开始的"),
        ("我住城西区建设路45号，手机是13800001111，从昨晚开始就没电了，邻居家有电", "从昨晚开始就没电了，邻居家有电"),
        ("户号3201000001，电话139 1234 0001，电表不走了", "电表不走了"),
        ("地址是解放路66号2栋，我家没电了", "我家没电了"),
        ("路边电线断了在冒火花 城东区解放路10号门口 电话13800007878", "路边电线断了在冒火花"),
        ("家里电压忽高忽低的，灯一闪一闪", "家里电压忽高忽低的，灯一闪一闪"),  # nothing else said: all of it
    ],
)
def test_the_problem_is_what_is_left_when_the_place_and_numbers_are_taken_out(text, problem):
    assert descriptions.problem_words(text) == problem


@pytest.mark.parametrize(
    "text, place",
    [
        ("城西区建设路12号2栋 哦不对 是4栋 1502", "城西区建设路12号4栋1502"),  # the part put right replaces it
        ("建设路12号，不对，是14号", "建设路14号"),
        ("建设路12号 不是我家那栋", "建设路12号"),  # no house part after "不是": nothing is put right
        ("城南区幸福路 幸福花园小区南门那", "城南区幸福路幸福花园小区南门"),  # the estate on the street is kept
        ("我家在城南区幸福路，幸福花园小区南门那边，停电了", "城南区幸福路幸福花园小区南门"),
        ("城南区东风路，加油站对面", "城南区东风路加油站对面"),
        ("东风路 我们小区停电了", "东风路"),
    ],
)
def test_address_as_meant(text, place):
    assert places.address(text) == place


def test_hold_on_to_ask_is_not_a_rejection_and_the_workers_number_is_not_the_customers():
    assert not acts.rejects("先别提交 我问你 租房的能不能报修？")
    assert acts.rejects("先别提交了，不报了") and acts.rejects("算了不办了")
    assert acts.asks_staff_phone("能给我张师傅的电话吗") and acts.asks_staff_phone("抢修人员电话多少")
    assert not acts.asks_staff_phone("我要改一下我的电话") and not acts.asks_staff_phone("留我老婆的电话")


def test_an_articles_spoken_numbers_are_written_on_a_screen():
    from backend.spoken import written_numbers

    assert written_numbers("可以拨打一二三四五咨询，或者九五五九八") == "可以拨打12345咨询，或者95598"
    assert written_numbers("一般三五天内，两小时到达") == "一般三五天内，两小时到达"


def test_a_question_that_tells_the_symptom_is_kept_and_names_no_street():
    said = "我们这停电是不是因为路口那根电线杆倒了？线都掉地上了，还冒火花"
    assert places.address(said) is None  # "电是不是因为路口" is no street
    assert descriptions.description(said) == "我们这停电是不是因为路口那根电线杆倒了，线都掉地上了，还冒火花"
    assert descriptions.description("在吗，我家突然没电了，楼道灯也不亮，不要紧吧") == "我家突然没电了，楼道灯也不亮"


def test_last_year_months_and_an_estate_added_to_a_street_number():
    from actions.followups import refined_address

    today = dt.date(2026, 12, 5)
    assert extract.month("那去年8月份的呢", today) == "2025-08" and extract.month("8月", today) == "2026-08"
    assert extract.month("前年十月", today) == "2024-10"
    added = places.address("要加上幸福小区4栋1203室")
    assert refined_address("玄武区北京东路39号", added) == "玄武区北京东路39号幸福小区4栋1203室"


def test_house_numbers_said_in_words_are_kept_whole_as_digits():
    """From an unscripted review (2026-12-06): spoken numbers cut addresses short ("…一百六十三号" lost the
    building and room; "江东中路一百号" was read as the district alone)."""
    assert [places.cn_number(w) for w in ("一百六十三", "十二", "五零一", "一百六", "一百零六", "两千零三")] == [
        163, 12, 501, 160, 106, 2003,
    ]  # fmt: skip
    assert places.address("栖霞区仙林大道一百六十三号 十二栋一单元602") == "栖霞区仙林大道163号12栋1单元602"
    assert places.address("建邺区 江东中路一百号 七栋二单元楼道里") == "建邺区江东中路100号7栋2单元"
    assert places.address("城东区和平路二十八号 三单元五零一") == "城东区和平路28号3单元501"
    assert places.address("就在秦淮区 呃 应天大街 靠近那个苏果超市门口") == "秦淮区应天大街靠近苏果超市门口"


def test_a_part_put_right_replaces_only_that_part():
    said = "栖霞区仙林大道一百六十三号 十二栋一单元602 等下 门牌号说错了 是一百六十五号"
    assert places.address(said) == "栖霞区仙林大道165号12栋1单元602"
    assert places.address("幸福小区2栋 哦不对 是4栋 1502") == "幸福小区4栋1502"  # the rest said again
    assert places.replaced_part("仙林大道163号12栋1单元602", "165号") == "仙林大道165号12栋1单元602"
    assert places.replaced_part("仙林大道163号12栋1单元602", "3单元") == "仙林大道163号12栋3单元602"
    assert places.replaced_part("仙林大道163号", "602室") is None  # nothing of that kind to put right


def test_a_place_said_in_pieces_is_kept_whole_and_a_street_lamp_is_no_street():
    """From an unscripted review (2026-12-06)."""
    assert places.address("城东区和平路二十八号，哦不对，是三十八号，三单元") == "城东区和平路38号3单元"
    assert places.address("城南区建设路二十号院 三号楼") == "城南区建设路20号院3号楼"
    assert places.address("和平路28号，13912340001") == "和平路28号"  # a phone after a comma is no room
    assert places.address("我家门口路灯不亮") is None  # not "门口路"

"""Four rules said the way people say them: customer_repeats, impolite_words, callback_kept and
identity_before_disclosure, each on a set of paraphrased violations and of near misses that must stay clean.
`measure()` gives the share caught and the share kept clean per rule (the numbers in the commit message):

    scripts/with-env.sh '$APP_PY -c "from tests.quality.test_checks_paraphrases import measure; print(measure())"'
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from quality.checks import with_digits
from tests.quality.test_checks import GREET, Row, agent_contact, contact, findings

# customer_repeats: three turns of one customer, a bot prompt between them.
REPEATS = [
    ("我家停电了", "都说了家里没电了", "没电啊，我家没电"),
    ("我要转人工", "给我转人工服务", "人工客服，我要找人工"),
    ("电费怎么这么高", "为什么这个月电费这么贵啊", "电费太高了吧，怎么回事"),
    ("什么时候来电", "到底什么时候能来电啊", "啥时候恢复供电？"),
    ("我要报修", "帮我报个修", "报修！我说了报修"),
    ("电表坏了", "我家电表坏了，不走字了", "电表坏了，你们派人来看看"),
    ("查一下余额", "我的余额是多少", "帮我查查余额还有多少"),
    ("户号是3201000001", "3201000001", "我说了户号3201000001"),
    ("路灯不亮了", "我说的是路灯不亮", "路灯！路灯坏了不亮"),
    ("我要投诉", "我要投诉你们", "投诉！我就是要投诉"),
    ("电费交了怎么还停电", "我已经交了电费为什么还给我停电", "交了电费还是停电"),
    ("能不能快点派人来修", "赶紧派人来修啊", "快派人来修"),
    ("喂？喂？我家没电了", "喂，听得到吗，我家里停电了", "家里停电了，停电了！"),
    ("查一下10月的电费", "10月电费多少", "我问的是十月的电费"),
    ("我想问下我家为啥停电", "为什么停电了？", "停电原因是什么，为啥停电"),
    ("帮我查下电费", "查电费", "我就想查个电费"),
    ("我要办峰谷电", "峰谷电怎么办理", "我说我要办理峰谷电价"),
    ("人工！", "转人工服务", "我不跟机器说，给我接人工"),
    ("电表一直在跳", "电表跳个不停", "我家电表乱跳"),
    ("你们能不能派个人来看看", "派个人过来看一下吧", "麻烦派人过来看看"),
    ("3201000001", "户号3201000001", "三二零一零零零零零一"),
    ("我家电压不稳，灯一闪一闪的", "灯老是闪", "灯一直闪，电压不稳"),
    ("我家跳闸了推不上去", "闸推不上去啊", "总闸推不上去了怎么办"),
    ("我要查上个月的电费", "上个月电费多少钱", "就是上个月的电费"),
    ("喂 我家没有电了", "喂 喂 我家没电", "没电了 我说我家没电了"),
    ("我要投诉抢修太慢", "投诉你们抢修慢", "抢修这么慢我要投诉"),
    ("我的户号是3201000002", "户号3201000002", "3201000002啊"),
]
NOT_REPEATS = [
    ("查一下10月的电费", "那9月的电费呢", "8月的电费也查一下"),
    ("查一下十月的电费", "九月的电费呢", "八月的电费呢"),
    ("这个月电费多少", "上个月电费多少", "上上个月电费多少"),
    ("查一下10月的电费", "查电费", "9月的电费"),
    ("我家停电了", "什么时候来电", "停电多久了能不能快点"),
    ("好的", "嗯嗯，好的", "可以可以", "行，谢谢"),
    ("户号3201000001", "尾号0001", "东风路88号"),
    ("查电费", "查余额", "查用电量"),
    ("我要报修", "我要交费", "我要投诉"),
    ("没有冒烟", "没有打火", "没有人受伤"),
    ("电费是236元吗", "那是198元吗", "不是175元吗"),
    ("我叫王建国", "电话13912340001", "地址和平路12号"),
    ("电费怎么这么高", "阶梯电价是怎么算的", "第二档从多少度开始"),
    ("我家停电了", "我家停电了", "还有个事，电费怎么交"),
    ("对", "是的是的", "对的，没错"),
    ("停电了", "户号3201000001", "尾号0001", "地址是和平路12号"),
    ("我家停电了", "邻居家也没电", "整栋楼都停了"),
    ("电费多少", "怎么交电费", "电费能开发票吗"),
    ("十一月电费多少", "十月呢", "九月份的呢"),
    ("我要报修", "没有冒烟", "在和平路12号", "电话13912340001"),
    ("欠了多少", "怎么交", "交完多久来电"),
    ("我姓王", "王建国", "我是户主"),
    ("上个月电费多少", "上上个月呢", "这个月呢"),
    ("电费怎么这么多", "是不是电表坏了", "我要申请校表"),
    ("我家停电了", "停电了邻居家有电", "是不是我家线路的问题"),
    ("查电费", "查一下我妈家的电费", "户号3201000002"),
]

# impolite_words: one agent line after the agent's greeting.
IMPOLITE = [
    "这不归我们管，你找物业去。",
    "这事不归我们这边管。",
    "你自己看不懂吗？短信上写得清清楚楚。",
    "我有什么办法，线路坏了又不是我弄的。",
    "你冲我嚷什么？又不是我停的电。",
    "你爱投诉就投诉吧。",
    "跟你说了多少次了，要带身份证。",
    "你到底听没听明白？",
    "我都跟你讲了好几遍了。",
    "你急也没用，等着吧。",
    "您耳朵不好使吗？",
    "你自己上网查去。",
    "这个你问别人去吧。",
    "这事我管不了。",
    "我们已经下班了，明天再打。",
    "不行就是不行。",
    "你想投诉就去投诉好了。",
    "你怎么这么啰嗦？",
    "你问我，我哪知道。",
    "你这人怎么听不懂人话呢？",
    "少废话，户号报一下。",
    "早干嘛去了，现在才想起来交费。",
    "那是你自己的问题，谁让你不按时交费。",
    "说了你也不懂。",
    "我很忙，没空跟你解释。",
    "你到底想怎么样？",
    "别再打来了，打了也没用。",
    "催什么催，师傅在路上了。",
    "你喊什么喊，好好说话。",
    "你不会自己看电表吗？",
    "这么简单都不会？",
    "关我们什么事。",
    "这跟我们没关系。",
    "您这是第几次问了，能不能听清楚再问。",
    "我也没有办法，您等着吧。",
    "跟你说不清楚。",
    "说完了没有？",
    "谁知道呢，等着吧。",
    "跟您说了好几次了，您怎么还问。",
    "那我也没办法啊。",
    "这种事你去找居委会，我们不管。",
    "你这个问题问得太奇怪了，我回答不了。",
    "你别跟我吼，吼也没用。",
    "你听我说完行不行！",
    "要投诉你就去投诉吧，我无所谓。",
    "我说的还不够清楚吗？",
    "行了行了，知道了。",
    "这个我们真管不了，你找别人吧。",
    "我都说了没有，你还要我说几遍？",
    "爱等不等。",
    "你要是不满意就去投诉呗。",
    "你这不是无理取闹吗？",
    "你能不能别打断我？",
    "我刚才说得很清楚了。",
    "没看到我在查吗？",
]
POLITE = [
    "这个不是我们供电公司负责的，是物业负责，我把物业电话告诉您。",
    "请您别着急，我马上帮您查询。",
    "您可以在网上国网APP上自己查询，也可以我帮您查。",
    "您说的情况我听明白了，马上为您处理。",
    "如果您对处理结果不满意，可以拨打95598投诉。",
    "我帮您登记投诉，会有专人跟进。",
    "刚才信号不好，麻烦您再说一遍好吗？",
    "您的心情我理解，我们一定尽快处理。",
    "这个业务需要到营业厅办理，营业厅地址我发给您。",
    "请问您叫什么名字？",
    "请问您想怎么处理，是退费还是抵扣下月电费？",
    "您的意思我明白了，是想办理峰谷电价对吧。",
    "您看一下电表上的读数，告诉我就行。",
    "没关系，您慢慢说。",
    "这个情况确实比较麻烦，我帮您想想办法。",
    "这个问题跟您的用电没有关系，是线路检修。",
    "我们下班时间是晚上六点，营业厅周末也开门。",
    "您自己的账户信息需要先核实身份才能告诉您。",
    "您问的这个问题我帮您问一下同事。",
    "营业厅已经下班了，您明天上午去就可以。",
    "等您说完了没问题的话我就提交。",
    "我帮您问问他们吧，请稍等。",
    "您可以找个时间去营业厅办理。",
    "这个问题不归供电所处理，需要联系燃气公司，我把电话给您。",
    "我不太清楚具体时间，帮您问一下抢修班。",
    "您先别挂，我马上帮您转接。",
    "我没听清楚，请您再说一遍。",
    "不管多晚，我们都会派人过去。",
    "智能语音听不懂方言的时候，您直接说人工就可以。",
    "您已经说得很清楚了，我这就帮您登记。",
    "这个确实不是我们的职责范围，但我可以告诉您该找哪个部门。",
    "没关系，我再给您解释一遍。",
]

# callback_kept: the server's turns (and the customer's answer) with no call-back on record.
PROMISES: list[tuple[Row, ...]] = [
    (("agent", "好的，稍后给您回电。", 40.0),),
    (("agent", "这个我记下了，回头我打给您。", 40.0),),
    (("agent", "我们这边核实后联系您。", 40.0),),
    (("agent", "您放心，明天给您答复。", 40.0),),
    (("agent", "有结果第一时间通知您。", 40.0),),
    (("agent", "我让师傅跟您联系。", 40.0),),
    (("agent", "这个问题会有专人回访。", 40.0),),
    (("agent", "我让我们班长给您回个电话。", 40.0),),
    (("agent", "抢修班那边我已经通知了，让他们直接跟您联系。", 40.0),),
    (("agent", "我们查清楚以后再告诉您结果。", 40.0),),
    (("agent", "三个工作日内给您答复。", 40.0),),
    (("agent", "我这边记下来了，晚点打电话给您。", 40.0),),
    (("agent", "需要我们稍后给您回电吗？", 40.0), ("customer", "好的，麻烦了", 45.0)),
    (("agent", "要不我查好了再打给您，可以吗？", 40.0), ("customer", "行", 45.0)),
    (("agent", "已为您登记，工作人员将在24小时内与您联系。", 40.0),),
    (("agent", "等抢修结束我们会通知您的。", 40.0),),
    (("agent", "我跟抢修班确认一下，确认好了给您打电话。", 40.0),),
    (("agent", "这个我得问一下领导，问完回复您。", 40.0),),
    (("agent", "我们会在两小时内给您一个答复。", 40.0),),
    (("agent", "我先登记下来，稍后会有工作人员给您打电话。", 40.0),),
    (("agent", "我帮您催一下，有消息马上告诉您。", 40.0),),
    (("agent", "我转给营销部，让他们给您回复。", 40.0),),
    (("agent", "您看我明天上午给您回个电话行吗？", 40.0), ("customer", "可以，上午都在家", 45.0)),
    (("customer", "查到了你给我打个电话", 35.0), ("agent", "好的没问题。", 40.0)),
    (("agent", "您放心，我们处理完会打电话告诉您结果。", 40.0),),
    (("agent", "我记一下您的电话，回头有消息再联系。", 40.0),),
    (("agent", "我去问问，问到了给您回过去好吗？", 40.0), ("customer", "好", 45.0)),
]
NO_PROMISES: list[tuple[Row, ...]] = [
    (("agent", "需要我们稍后给您回电吗？", 40.0), ("customer", "不用了，我自己再打过来", 45.0)),
    (("agent", "您可以稍后再拨打95598。", 40.0),),
    (("customer", "我待会儿再打过来", 40.0), ("agent", "好的。", 45.0)),
    (("agent", "客户经理会联系您确认勘查时间。", 40.0),),
    (("agent", "如需回电，请在工作时间拨打95598。", 40.0),),
    (("agent", "工单号已经通过短信发给您了。", 40.0),),
    (("agent", "您有任何问题可以随时联系我们。", 40.0),),
    (("agent", "我现在就帮您联系抢修班。", 40.0),),
    (("agent", "请您保持电话畅通。", 40.0),),
    (("agent", "恢复送电后系统会短信通知您。", 40.0),),
    (("agent", "要不要我们回头给您打个电话？", 40.0), ("customer", "不需要，谢谢", 45.0)),
    (("customer", "那我明天再打来问", 35.0), ("agent", "好的，您明天再来电就行。", 40.0)),
    (("agent", "抢修师傅到了现场会先联系您。", 40.0),),
    (("agent", "您也可以关注网上国网，有进度会推送。", 40.0),),
    (("customer", "不用回电话，短信告诉我就行", 35.0), ("agent", "好的。", 40.0)),
    (("agent", "投诉受理后一般一个工作日内会有人联系您。", 40.0),),
    (("agent", "师傅上门前会先给您打电话确认。", 40.0),),
    (("agent", "您有消息再联系我们。", 40.0),),
]

# identity_before_disclosure: agent turns before any verification.
DISCLOSURES: list[tuple[Row, ...]] = [
    (("agent", "您家上个月电费一百三十多块。", 40.0),),
    (("agent", "您这个月大概两百来块钱。", 40.0),),
    (("agent", "您10月份的电费是236.5元。", 40.0),),
    (("agent", "您家上个月用了四百多度电。", 40.0),),
    (("agent", "您账户上还欠着电费呢。", 40.0),),
    (("agent", "您家目前是欠费状态。", 40.0),),
    (("agent", "您的账户余额还有三十多。", 40.0),),
    (("agent", "您10月份的电费已经交清了。", 40.0),),
    (("agent", "您上个月交了两百。", 40.0),),
    (("agent", "您登记的手机尾号是0001。", 40.0),),
    (("agent", "您登记的住址是和平路12号。", 40.0),),
    (("agent", "您家的电表读数是3521。", 40.0),),
    (("agent", "系统显示您最近一次缴费是11月3号。", 40.0),),
    (("agent", "我看您家用电量是412，比较正常。", 40.0),),
    (("agent", "您家的电费是一百二。", 40.0),),
    (("agent", "您家里住址是东风路88号3单元对吧。", 40.0),),
    (("agent", "您家九月份电费一百八十六块五。", 40.0),),
    (("agent", "我看了下，您家还欠三百多。", 40.0),),
    (("agent", "您这个户上月用电五百二十度。", 40.0),),
    (("agent", "您留的电话是139开头的。", 40.0),),
    (("agent", "系统里您家地址写的是建设路8号。", 40.0),),
    (("agent", "您家账户里只剩十几块钱了。", 40.0),),
    (("agent", "您上次交费是十一月二号，交了三百。", 40.0),),
    (("agent", "电表现在的读数到了4521了。", 40.0),),
    (("agent", "您这户已经欠费两个月了。", 40.0),),
    (("agent", "系统显示您十月份的电费还没交。", 40.0),),
    (("agent", "您账户余额是负的，所以停电了。", 40.0),),
]
NO_DISCLOSURES: list[tuple[Row, ...]] = [
    (("agent", "居民第一档电价是每度0.4883元。", 40.0),),
    (("agent", "请问您上个月交了多少钱？", 40.0),),
    (("agent", "欠费超过三十天可能会停电，建议您及时缴费。", 40.0),),
    (("agent", "您可以通过网上国网APP查询余额。", 40.0),),
    (("agent", "我帮您查一下您家上个月的电费，请先提供户号。", 40.0),),
    (("agent", "电费一般每月15号左右出账。", 40.0),),
    (("customer", "我上个月交了200块", 30.0), ("agent", "好的，您说交了200块是吧，我帮您核实一下。", 40.0)),
    (("agent", "请您提供手机尾号后四位。", 40.0),),
    (("agent", "我们的服务电话是95598。", 40.0),),
    (("agent", "一般家庭一个月用两三百度电。", 40.0),),
    (("customer", "我住和平路12号", 30.0), ("agent", "和平路12号是吧，我帮您看一下。", 40.0)),
    (("agent", "您家的余额需要核实身份后才能告诉您。", 40.0),),
    (("agent", "电费一般是按月结算的。", 40.0),),
    (("agent", "峰时电价和谷时电价差两毛多。", 40.0),),
    (("agent", "交费可以用网上国网或者支付宝。", 40.0),),
    (("agent", "欠费停电的，交清后24小时内复电。", 40.0),),
    (("agent", "余额不足提醒会发到您预留的手机上。", 40.0),),
    (("agent", "每户每月有10度或15度的免费电量，以当地公布为准。", 40.0),),
    (("agent", "您可以在网上国网查询是否欠费。", 40.0),),
    (("customer", "我尾号是0002", 30.0), ("agent", "尾号0002，好的，我帮您核对一下。", 40.0)),
]


def customer_said(*texts: str) -> Any:
    rows: list[Row] = [GREET]
    for k, text in enumerate(texts):
        rows += [("customer", text, 5.0 + 10 * k), ("bot", f"请问您要办理哪项业务？第{k}问", 8.0 + 10 * k)]
    return contact(*rows, ("bot", "感谢您的耐心，再见。", 99.0))


def repeats(texts: tuple[str, ...]) -> bool:
    return "customer_repeats" in findings(customer_said(*texts))


def impolite(line: str) -> bool:
    return "impolite_words" in findings(agent_contact(("customer", "我家停电了", 30.0), ("agent", line, 40.0)))


def promised(rows: tuple[Row, ...]) -> bool:
    return "callback_kept" in findings(agent_contact(("customer", "帮我问问什么时候修好", 30.0), *rows))


def disclosed(rows: tuple[Row, ...]) -> bool:
    return "identity_before_disclosure" in findings(agent_contact(("customer", "帮我查一下", 25.0), *rows))


SETS: dict[str, tuple[Any, list[Any], list[Any]]] = {
    "customer_repeats": (repeats, REPEATS, NOT_REPEATS),
    "impolite_words": (impolite, IMPOLITE, POLITE),
    "callback_kept": (promised, PROMISES, NO_PROMISES),
    "identity_before_disclosure": (disclosed, DISCLOSURES, NO_DISCLOSURES),
}


def measure() -> dict[str, dict[str, float]]:
    """Per rule: the share of violations caught (recall) and of near misses left clean."""
    shares = {}
    for rule, (flags, violations, near_misses) in SETS.items():
        caught = sum(bool(flags(v)) for v in violations)
        clean = sum(not flags(n) for n in near_misses)
        shares[rule] = {"caught": round(caught / len(violations), 2), "clean": round(clean / len(near_misses), 2)}
    return shares


@pytest.mark.parametrize("texts", REPEATS, ids=lambda t: "/".join(t))
def test_a_request_restated_three_times_is_a_repeat(texts: tuple[str, ...]) -> None:
    assert repeats(texts)


@pytest.mark.parametrize("texts", NOT_REPEATS, ids=lambda t: "/".join(t))
def test_other_requests_other_numbers_and_answers_are_not_repeats(texts: tuple[str, ...]) -> None:
    assert not repeats(texts)


@pytest.mark.parametrize("line", IMPOLITE)
def test_a_forbidden_phrase_of_the_service_standard_is_flagged(line: str) -> None:
    assert impolite(line)


@pytest.mark.parametrize("line", POLITE)
def test_a_polite_agent_sentence_with_similar_words_is_clean(line: str) -> None:
    assert not impolite(line)


def test_the_bot_is_never_flagged_for_forbidden_words() -> None:
    c = contact(GREET, ("bot", "这不归我们管，你自己去查吧。", 5.0), ("bot", "感谢您的来电，再见。", 9.0))
    assert "impolite_words" not in findings(c)


@pytest.mark.parametrize("rows", PROMISES, ids=lambda r: r[0][1])
def test_a_promise_to_get_back_without_a_call_back_on_record_is_flagged(rows: tuple[Row, ...]) -> None:
    assert promised(rows)


@pytest.mark.parametrize("rows", NO_PROMISES, ids=lambda r: r[0][1])
def test_offers_declined_instructions_and_the_customers_own_call_are_not_promises(rows: tuple[Row, ...]) -> None:
    assert not promised(rows)


def test_a_call_back_not_yet_due_when_inspected_is_not_judged_but_an_overdue_one_is() -> None:
    pending = {"outcome": "agent", "resolved": True, "callbacks": [{"promised_at": 40, "due_at": 7240}]}
    c = agent_contact(("agent", "我们核实后联系您。", 40.0), facts=pending)
    assert "callback_kept" not in findings(dataclasses.replace(c, inspected_at=600.0))
    assert findings(dataclasses.replace(c, inspected_at=7300.0))["callback_kept"].message.endswith("回电没有完成")


@pytest.mark.parametrize("rows", DISCLOSURES, ids=lambda r: r[-1][1])
def test_account_data_stated_before_verification_is_flagged(rows: tuple[Row, ...]) -> None:
    assert disclosed(rows)


@pytest.mark.parametrize("rows", NO_DISCLOSURES, ids=lambda r: r[-1][1])
def test_tariffs_questions_and_the_customers_own_words_read_back_disclose_nothing(rows: tuple[Row, ...]) -> None:
    assert not disclosed(rows)


def test_chinese_numbers_are_read_as_digits_where_they_are_numbers() -> None:
    read = {"十月": "10月", "一百三十多块": "130多块", "两百来块钱": "200来块钱", "一百二": "120", "一百零二": "102"}
    read |= {"三万五": "35000", "三二零一零零零零零一": "3201000001", "十一月": "11月"}
    assert {spoken: with_digits(spoken) for spoken in read} == read
    words = ["查一下", "一个", "万一", "千万别", "快一点", "第二档"]
    assert [with_digits(w) for w in words] == words


def test_a_pasted_run_of_numerals_is_inspected_without_error() -> None:
    pasted = "一" * 5000  # more digits than Python reads as one int (4300), were it taken for a number
    c = customer_said(pasted[:2000], pasted[:2000], pasted)
    assert "customer_repeats" in findings(c)
    assert with_digits(pasted) == pasted

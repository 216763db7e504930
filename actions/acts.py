"""What the customer does with words, apart from giving details: turns a request down or takes it back, leaves,
asks a question, chases an order, wants a person, is upset. Text in, yes/no (or the words that matter) out."""

from __future__ import annotations

import re

from nlu.negation import asserted

UNDO = re.compile(r"没说要|没让你|没要求|没叫你|我没说|谁让你|不是我要的|没有要办|我没要")
REJECT = re.compile(
    UNDO.pattern + r"|先别办|先不办|不办了|别办了|不弄了|先不弄|不需要了|不想办了|算了|不用了|先不用|"
    r"不用报|不报了|不用修了|不用来了|不用派|别派人|已经有电了|现在有电了|有电了|不用登记|先别(?!急)|别提交|先不提交|不提交|"
    r"不(?:要|想|用)?(?:报修|投诉|举报|复电|开通|新装|增容|申请|办理?|查)了?(?![的得])"
)
FUNCTION_VERBS = {
    "fault_repair": "报修|报|修",
    "complaint": "投诉",
    "theft_report": "举报",
    "arrears_reconnect": "复电",
    "tou_apply": "开通|开",
    "new_connection": "新装|增容|装",
    "meter_issue": "校验|验表|换表",
    "suggestion": "建议|提",
    "safety_hazard": "报|修",
    "contact_change": "改",
    "power_quality": "报|修",
}


def rejects_function(text: str, function_id: str) -> bool:
    """ "不用投诉，我就看看" for complaint: this very service is refused."""
    verbs = FUNCTION_VERBS.get(function_id)
    return bool(verbs and re.search(rf"(?:不用|不要|不想|别|不是要|没说要|不)(?:给我|帮我)?(?:{verbs})", text or ""))


def wants_function(text: str, function_id: str) -> bool:
    """ "谁让你取消了？我要投诉…": this very service is asked for outright."""
    verbs = FUNCTION_VERBS.get(function_id)
    return bool(verbs and re.search(rf"(?:我|就)(?:是)?(?:要|想|得)(?:{verbs})", text or ""))


SUPPLEMENT = re.compile(r"^(?:再|我)?(?:补充|追加|另外说一下|再说一下|还有个情况|再加一句)")
UPSET = re.compile(r"太差|态度|气死|气人|急死|烦死|搞什么|怎么回事|什么破|垃圾|凭什么|太过分|受不了|[?？!！]{2,}|投诉")


LEAVING = re.compile(
    r"没(?:有)?(?:别的|其他|其它)(?:事|问题|要办|需要)?了?|就(?:先)?这样(?:吧|了)?|先这样|没事了|不需要了|再见|拜拜"
    r"|走了|挂了|(?:^|[，,。\s])没(?:有)?了(?:[，,。！!\s]|谢|$)"  # "没有了，谢谢": not "电没了"
)


def leaving(text: str) -> bool:
    """ "好的 没别的了 谢谢": the customer is done talking (said with thanks or a goodbye)."""
    return bool(LEAVING.search(text or ""))


CORRECTS_REQUEST = re.compile(r"(?:不是|不对)[^。？?]{0,10}?[，,\s]*(?:而是|是)")


def corrects_request(text: str) -> bool:
    """ "哦不对不对，不是停电，是电压不稳": the request is another one than the one taken up."""
    return bool(CORRECTS_REQUEST.search(text or ""))


HOLD = re.compile(r"先别(?:提交|交|急)|先不(?:要)?(?:提交|交)|等(?:一)?(?:下|会儿?)|慢着|稍等")


def moved_on(text: str) -> str | None:
    """ "算了 那夏天8月份多少": what follows "never mind, then" (it may answer the question asked), else None."""
    m = re.match(r"^(?:哦|唉|嗯)?[，,\s]*算了[吧啊]?[，,。\s]*(?:那|那就|还是)(.+)", (text or "").strip())
    return m.group(1) if m else None


def rejects(text: str) -> bool:
    """The customer does not want what is being done ("先别办", "我没说要复电", "我不报修"). "先别提交 我问你
    租房的能不能报修？" only holds it while a question is answered."""
    return bool(REJECT.search(text or "")) and not (HOLD.search(text or "") and asks(text))


def undoes(text: str) -> bool:
    """ "我没说要…": what the bot just did was not asked for."""
    return bool(UNDO.search(text or ""))


WITHDRAW = re.compile(r"撤销|撤回|撤掉|撤了|作废|取消掉|不开了|退掉")


ASKS_WITHDRAWN = re.compile(
    r"(?:没|没有)(?:被|给我)?(?:取消|撤销|撤掉|撤回|作废)|(?:取消|撤销|撤掉|撤回|撤|作废)(?:了)?(?:没有|没|吗|么|不)"
    r"|还在(?:吧|吗|么|不|没|的吧)"
)


def asks_if_withdrawn(text: str) -> bool:
    """ "没被取消吧" / "撤销了没有" / "单子还在吧": a question about the order, never a withdrawal."""
    return bool(ASKS_WITHDRAWN.search(text or ""))


def withdraws(text: str) -> bool:
    """ "帮我撤销吧", "刚才那个单子取消掉": take back what was filed."""
    return bool(WITHDRAW.search(text or "")) and not asks_if_withdrawn(text)


ORDER_REF = re.compile(r"单子|工单|那个单|这个单|刚才那个|刚刚那个|刚才的|申请")


def refers_to_order(text: str) -> bool:
    return bool(ORDER_REF.search(text or ""))


QUESTION = re.compile(
    r"[吗呢？?]$|[吗呢][？?]?$|是不是|多少|怎么|什么|要不要|能不能|会不会|收钱|多久|几点|哪里"
    r"|咋[办弄交缴整查回样]|如何|哪儿|哪个"
    r"|(?<![不没])([\u4e00-\u9fff])(?<![不没])[不没]\1"
)  # A-not-A: 欠不欠, 有没有, 通没通; not "不对不对" (a denial said twice)


def asks(text: str) -> bool:
    """A question to us ("开了之后白天电价是不是会变贵？"), not an answer."""
    return bool(QUESTION.search((text or "").strip()))


STAFF_PHONE = re.compile(
    r"(?:师傅|电工|工作人员|抢修(?:人员|的人)?|维修(?:人员|的人)?|上门的人?)(?:的)?(?:电话|手机|号码|联系方式)"
)


def asks_staff_phone(text: str) -> bool:
    """ "能给我张师傅的电话吗": the field worker's number, not a change of the customer's own."""
    return bool(STAFF_PHONE.search(text or ""))


NOT_NOW_PERSON = re.compile(r"先不(?:找|用|转|要)|不用(?:转|找)|不(?:需要|要)转|就问问|问一下而已|暂时不(?:用|找|转)")


def declines_person(text: str) -> bool:
    """ "有人工客服吗 我就问问 现在先不找": whether there are people, not a request for one now."""
    return bool(NOT_NOW_PERSON.search(text or ""))


def changes_registered_phone(text: str) -> bool:
    """The account's registered phone (联系方式变更), not the contact number of the order being made ("电话改一下
    留我老婆的")."""
    return bool(re.search(r"户号|登记|预留|户主|账户|绑定|户口", text or ""))


def wants_person(text: str) -> bool:
    return bool(re.search(r"人工|客服|真人|转接|找人|接线员|找个人|活人|人来|按0|按零", text or ""))


REQUEST_VERB = re.compile(r"帮我|帮忙|给我|我要|我想|要办|想办|查|办|申请|开通|报修|投诉|举报|交|缴|装|改|取消|撤")
THANKS = re.compile(r"^(?:谢谢|感谢|多谢|好的谢谢)")


def requests_something(text: str) -> bool:
    """A clause that asks for a service ("你先帮我查查11月电费"), not thanks or chatter."""
    t = (text or "").strip()
    return bool(REQUEST_VERB.search(t)) and not (THANKS.search(t) and "表扬" not in t)


CHASES = re.compile(
    r"(?:报修|报了|报的|报过|打过电话|反映过?)[^，。,！!？?]{0,8}(?:多久|半天|好久|几个小时|一天|还没|怎么还|咋还)"
    r"|(?:怎么|咋|为啥|为什么)还没(?:有)?人来|还没人来|催一下|催催|帮我催"
)


HURRIES = re.compile(r"快点|快些|尽快|抓紧|赶紧|快一点")


def hurries(text: str) -> bool:
    """ "那麻烦你们快点": a chase when said right after the order's progress (a new report says it too)."""
    return bool(HURRIES.search(text or ""))


def chases(text: str) -> bool:
    """A repair already reported, chased ("我报修都多久了还没人来"): its progress, not a new report."""
    return bool(CHASES.search(text or ""))


def upset(text: str) -> bool:
    return asserted(text or "", UPSET)


ONLY_THIS_HOME = re.compile(
    r"只有我家|就我家|只是我家|单单我家|邻居(?:家)?(?:都|也)?有电|别人家(?:都)?有电|楼上楼下(?:都)?有电|跳闸|闸(?:也)?没跳"
)
ASKS_FOR_REPAIR = re.compile(r"报修|报个修|报一?下修|登记|派人|上门|来修|修一下|(?<!不)(?:要|想)报")


def only_this_home(text: str) -> bool:
    """The power cut is the customer's own ("邻居家都有电，就我家没电"), not the area's."""
    return bool(ONLY_THIS_HOME.search(text or ""))


def asks_for_repair(text: str) -> bool:
    """An explicit request to file a repair ("还是帮我报修吧"), which stands even during a known outage."""
    return bool(ASKS_FOR_REPAIR.search(text or ""))


ACKNOWLEDGES = re.compile(r"谢谢|多谢|知道了|明白了|了解了|我等着|等通知|那就等|那我等")


def acknowledges(text: str) -> bool:
    """Thanks for news, not an answer or a request ("好的 知道了 谢谢")."""
    t = text or ""
    return bool(ACKNOWLEDGES.search(t)) and not re.search(r"\d", t) and not asks_for_repair(t)

"""Pulls slot values out of what a customer typed or said (speech gives 幺三九… as often as 139…)."""

from __future__ import annotations

import datetime as dt
import re

from backend.spoken import DIGITS, SPOKEN_RUN
from backend.topology import DISTRICT_RE
from nlu.escalation import HAZARD
from nlu.negation import asserted, denied, negated_at
from nlu.opening import after_opening, chinese_chars

ACCOUNT_RE = re.compile(r"(?<![\dGg])(\d{10})(?!\d)")  # not the digits of an order number (G…)
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
LAST4_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
ORDER_RE = re.compile(r"(?<![A-Za-z0-9])[Gg]\s*(\d{11})(?!\d)")
ORDER_DIGITS_RE = re.compile(r"(?<!\d)(\d{11})(?!\d)")
ADDRESS_RE = re.compile(
    r"[\u4e00-\u9fa5]{0,8}(?:区|县|镇|乡|街道|村|路|街|巷|大道|小区|花园|苑|家园|公寓|广场|大厦)"
    r"[\u4e00-\u9fa5\d\-#]{0,20}?(?:\d+|[一二三四五六七八九十]+)(?:号楼|号院|号|栋|幢|单元|室|组|楼)"
    r"(?:(?:[\u4e00-\u9fa5]{2,6}?(?:小区|花园|苑|家园|公寓|大厦|新村))?[\d一二三四五六七八九十]+(?:号|栋|幢|单元|室|组|楼)?)*"
)  # "北京东路39号幸福小区4栋1203室": the estate after the number is part of it
ADDRESS_PREFIX = re.compile(
    r"^(?:不对|不是|错了|说错了|刚才说错了|改一下|(?:要|再)?(?:加上|补上|添上|写上)|[，,。 ])*(?:我的|我家|家里|我)?"
    r"(?:地址|详细地址|住址)?(?:就是|就在|是|在|住在|住|位于|改成|改为|应该是)?[:：，, ]*"
)
CN_NUM = {word: int(digit) for word, digit in DIGITS.items() if digit != "0"} | {"十": 10, "十一": 11, "十二": 12}
MONTH_RE = re.compile(r"(?:(\d{4})\s*[年\-/.]\s*)?(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月")
YES_WORDS = (
    "有",
    "是",
    "对",
    "嗯",
    "好的",
    "好",
    "行",
    "可以",
    "没错",
    "确认",
    "没问题",
    "是的",
    "中",
    "要得",
    "提交",
    "就提交",
    "就这么办",
    "就这样",
    "妥",
)
NO_WORDS = (
    *("没有", "没", "无", "不是", "不对", "不用", "不要", "别", "算了", "都没有", "正常", "不存在", "不危险"),
    *("要修改", "修改", "要改", "改一下", "有错", "写错"),  # the read-back's own button, typed
)
UNSURE_WORDS = ("不清楚", "不知道", "说不准", "说不好", "不确定", "没注意", "看不清", "不太清楚", "搞不清")
YES_PHRASES = ("没问题", "没毛病", "没错", "不错", "对对", "是的", "可以的")
ENABLE_WORDS = ("开通", "办理", "申请", "办一个", "开一下", "要开", "装")
DISABLE_WORDS = ("取消", "关闭", "关掉", "不要了", "退订", "停用", "退掉", "撤销", "改回")


def earlier_month(month: str) -> str:
    """The month before a "YYYY-MM" month."""
    y, m = int(month[:4]), int(month[5:])
    return f"{y - (m == 1):04d}-{12 if m == 1 else m - 1:02d}"


def month_before_told(text: str, told: str | None) -> str | None:
    """The month before the bill just told, when that is what is asked: "那上个月呢" / "再往前一个月". "上个月的"
    names a month (the calendar's) and is not this."""
    if not told:
        return None
    named = month(text)
    if named and named != told:  # "再往前一个月呢 9月份多少": the month named wins
        return None
    before = re.search(r"往前|前一个月|(?:前面|之前|再前)(?:那|一)?个月", text)
    same = named == told and "上" in text and re.search(r"那|呢|再|还有", text)
    return earlier_month(told) if before or same else None


def spoken_digits(text: str) -> str:
    """Replaces runs of four or more spoken digits (幺三九…) with Arabic digits."""
    return SPOKEN_RUN.sub(
        lambda m: "".join(DIGITS.get(c, c) for c in m.group() if not c.isspace() and c != "-"), text or ""
    )


def compact(text: str) -> str:
    """Digits with the spaces and dashes people put between groups removed ("139 1234 0001")."""
    text = spoken_digits(text).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"(?<=\d)[\s\-]+(?=\d)", "", text)


def _plain(text: str) -> str:
    """Spoken and full-width digits made Arabic, groups left apart ("3201000001 0001" is two numbers)."""
    return spoken_digits(text or "").translate(str.maketrans("０１２３４５６７８９", "0123456789"))


CORRECTING = re.compile(r"不对|错了|说错|打错|应该是|改成|改为|更正")


def account_no(text: str) -> str | None:
    """The 户号; when the message corrects itself ("…8 哦不对 …3"), the last one said."""
    for t in (_plain(text), compact(text)):
        found = ACCOUNT_RE.findall(t)
        if found:
            return found[-1] if CORRECTING.search(text or "") else found[0]
    return None


def mobile(text: str) -> str | None:
    t = compact(text)
    m = MOBILE_RE.search(t) or LANDLINE_RE.search(t)
    return m.group(1) if m else None


def last4(text: str) -> str | None:
    m = LAST4_RE.search(compact(text))
    return m.group(1) if m else None


LAST4_SAID = re.compile(r"(?:尾号|后四位|后4位|末四位|最后四位|手机后|尾数)[是为:：\s]*(\d{4})(?!\d)")


def last4_alongside(text: str) -> str | None:
    """The last four digits given out of turn: "3201000004 手机尾号0004", "户号…，后四位0001"."""
    m = LAST4_SAID.search(compact(text))
    if m:
        return m.group(1)
    t = _plain(text)
    if ACCOUNT_RE.search(t):
        rest = ACCOUNT_RE.sub(" ", t)
        found = LAST4_RE.findall(rest)
        if len(found) == 1:
            return found[0]
    return None


def order_no(text: str, bare_digits: bool = False) -> str | None:
    t = compact(text)
    m = ORDER_RE.search(t)
    if m is None and bare_digits:  # eleven digits alone: an order number, unless they are a mobile number
        m = next((d for d in ORDER_DIGITS_RE.finditer(t) if not MOBILE_RE.fullmatch(d.group(1))), None)
    return f"G{m.group(1)}" if m else None


def month(text: str, today: dt.date | None = None) -> str | None:
    """A YYYY-MM month: 上个月, 这个月, 前两个月, 10月, 十月份, 2026年3月; months not yet come mean last year."""
    today = today or dt.date.today()
    shift = {"上上个月": 2, "上上月": 2, "前两个月": 2, "上个月": 1, "上月": 1, "这个月": 0, "本月": 0, "当月": 0}
    for word, back in shift.items():
        if word in text:
            y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
            return f"{y:04d}-{m + 1:02d}"
    found = MONTH_RE.search(text)
    if not found:
        return None
    year, mo = found.group(1), found.group(2)
    mo = int(mo) if mo.isdigit() else CN_NUM[mo]
    y = int(year) if year else (today.year if mo <= today.month else today.year - 1)
    if not year and re.search(r"(?:去年|前年)\s*(?:的|那个)?\s*" + re.escape(found.group()), text):
        y = today.year - (2 if "前年" in text else 1)  # "去年8月份": always last year's
    return f"{y:04d}-{mo:02d}"


ESTATE = r"[\u4e00-\u9fa5]{2,6}?(?:小区|花园|苑|家园|公寓|广场|大厦|村|社区|市场)"
LANDMARK_RE = re.compile(
    r"(?:[\u4e00-\u9fa5]{2}新?(?:区|县|镇|乡))?"
    r"(?:[\u4e00-\u9fa5]{1,6}?(?:路|街|巷|大道)(?:(?:跟|和|与|及)[\u4e00-\u9fa5]{1,6}?(?:路|街|巷|大道))?"
    rf"(?:{ESTATE})?|{ESTATE})"  # "幸福路幸福花园小区南门": the estate on the street is part of the place
    r"(?:[\u4e00-\u9fa5]{0,4}?(?:交叉口|路口|口|门口|对面|旁边|附近|北门|南门|东门|西门|南段|北段|东段|西段|那片|一带|村口))?"
)
PLACE_CLAUSE = re.compile(r"(?:[\u4e00-\u9fa5]{2,6}(?:对面|旁边|附近|门口|路口|后面|前面|楼下|隔壁))")
PRONOUN_LEAD = re.compile(
    r"^(?:喂|呃|嗯|啊|我们|我家|咱们|俺们|你们|他们|这个|那个|这边|那边|就是|就在|住在|我|咱|俺|在|是|就)+"
)
NOT_PLACE = re.compile(r"电话|手机|号码|户号|尾号|后四位|姓|叫|名字|快点|派人|赶紧|没电|停电|有电")


def district(text: str) -> str | None:
    m = DISTRICT_RE.search(text or "")
    return m.group() if m else None


NOT_A_NAME = re.compile(r"是不是|因为|为什么|怎么|[了吗吧呢]")  # "停电是不是因为路口…" names no street


def _landmark(text: str) -> str | None:
    """A place without a house number: "城南区东风路，加油站对面", "黄河路跟长江路路口", "城北区的"."""
    parts = []
    for clause in re.split(r"[，,。；;！!？?\s]+", text or ""):
        clause = PRONOUN_LEAD.sub("", LANDLINE_RE.sub("", MOBILE_RE.sub("", compact(clause))))
        m = LANDMARK_RE.search(clause)
        if m and not parts and not NOT_PLACE.search(m.group()) and not NOT_A_NAME.search(m.group()):
            parts.append(m.group())
        elif parts and PLACE_CLAUSE.fullmatch(clause):
            parts.append(clause)  # "加油站对面" right after the street
        elif (
            len(parts) == 1
            and m
            and m.start() == 0
            and re.match(ESTATE, clause)
            and not re.search(ESTATE, parts[0])
            and not NOT_PLACE.search(m.group())
        ):
            parts.append(m.group())  # "城南区幸福路 幸福花园小区南门那": the estate on the street
        elif not parts and DISTRICT_RE.fullmatch(clause.rstrip("的")):
            parts.append(clause.rstrip("的"))  # only the district ("城北区的")
    return "".join(parts) or None


SPACE_AT_DIGITS = re.compile(
    r"(?<=[\u4e00-\u9fa5])\s+(?=\d)|(?<=\d)\s+(?=[\u4e00-\u9fa5])|(?<=[号栋幢室])\s+(?=[\u4e00-\u9fa5]{2,6}?(?:小区|花园|苑))"
)


def glued(text: str | None) -> str:
    """Spaces between words and numbers taken out ("和平路 12号" -> "和平路12号"), as addresses are matched."""
    return SPACE_AT_DIGITS.sub("", text or "")


SAID_WRONG = re.compile(r"[，,。\s]*(?:哦|噢|啊|呃)?(?:不对|说错了|错了|不是)[，,。\s]*(?:是|应该是)?")
HOUSE_PART = r"[\d一二三四五六七八九十]+(?:号楼|号院|号|栋|幢|单元|室|楼)"


def corrected(text: str) -> str:
    """ "12号2栋 哦不对 是4栋 1502" as meant: "12号4栋 1502" (the part put right replaces the same part said)."""
    m = SAID_WRONG.search(text or "")
    first = m and m.start() > 0 and re.match(rf"\s*({HOUSE_PART})", text[m.end() :])
    if not m or not first:
        return text
    unit = re.sub(r"^[\d一二三四五六七八九十]+", "", first.group(1))
    same = list(re.finditer(rf"[\d一二三四五六七八九十]+{unit}", text[: m.start()]))
    return text[: same[-1].start()] + text[m.end() :].strip() if same else text


def address(text: str, whole_text: bool = False) -> str | None:
    """An address: a numbered address anywhere, else a named place (street, estate, village, crossing); when
    the bot just asked for it, a short answer that reads like a place."""
    text = glued(corrected(text))
    found = ADDRESS_RE.search(text)
    if found and len(ADDRESS_PREFIX.sub("", found.group())) >= 4:
        head = text[: found.start()]
        said = DISTRICT_RE.findall(head)
        prefix = said[-1] if said and not district(found.group()) and len(head) - head.rfind(said[-1]) <= 12 else ""
        if not prefix and not district(found.group()) and district(text[found.end() :]):
            prefix = district(text[found.end() :])  # "工业路57号那个小作坊，城北区的"
        return prefix + ADDRESS_PREFIX.sub("", found.group()).strip()
    place = _landmark(text)
    if place:
        return place
    if whole_text:
        cleaned = ADDRESS_PREFIX.sub("", PRONOUN_LEAD.sub("", (text or "").strip())).strip(" 。，,.!！?？")
        if (
            looks_like_address(cleaned)
            and not NOT_PLACE.search(cleaned)
            and len(cleaned) <= 30
            and not re.search(r"了|吗|呢|没|不|黑|坏|跳|亮|冒|断|闪|漏|响", cleaned)
        ):  # a sentence, not a place
            return cleaned[:80]
    return None


PLACE_MARKERS = re.compile(
    r"区|县|市|镇|乡|村|路|街|巷|道|小区|花园|苑|园|号|栋|幢|单元|组|楼|大厦|广场|公寓|附近|旁边|对面|门口|路口|桥|站|厂|学校|医院|商场|超市"
)


def caller_means_this_phone(text: str) -> bool:
    """ "电话就这个" / "打这个号": the number the call comes from."""
    return bool(re.search(r"就(?:是)?这个(?:号|电话|手机)?|打这个|这个号|本机|来电(?:的)?号码|就用这个", text or ""))


ACCOUNT_ADDRESS = re.compile(
    r"户号(?:那个|上的?|里的?|登记的?|注册的?|对应的?)的?(?:那个)?地址|(?:登记|注册|预留)的(?:那个)?地址"
    r"|(?:跟|和|同)户号(?:上)?(?:一样|一致|相同)|账户(?:上|里)的?地址|电费单上的?地址"
)


def means_account_address(text: str) -> bool:
    """ "就户号那个地址啊" / "登记的地址": the address the account is registered at, not one said."""
    return bool(ACCOUNT_ADDRESS.search(text or ""))


def place_entity(value: str | None) -> str | None:
    """The NLU's address entity, when it reads like a place (it can stop mid-word or swallow a phone number)."""
    if not value or re.search(r"\d{5,}|\d[\s\-]\d", value) or NOT_PLACE.search(value) or not looks_like_address(value):
        return None
    return value


def looks_like_address(text: str) -> bool:
    return bool(PLACE_MARKERS.search(text or "")) and chinese_chars(text) >= 3


ANSWER_LEAD = re.compile(r"^(?:[\s，,。.…~嗯呃啊哦喂呐哈]|那个|那(?=就|好|行|提交|可以|没问题|对|不|没)|就是)*")


def yes_no(text: str, intent: str | None = None) -> bool | None:
    """An answer to a yes/no question, read from how it starts ("没有没有，就是整栋楼都黑了" is a no)."""
    t = ANSWER_LEAD.sub("", text or "").strip()
    if not t:
        return True if intent == "affirm" else False if intent == "deny" else None
    if any(t.startswith(w) for w in UNSURE_WORDS):
        return None
    if any(t.startswith(w) for w in YES_PHRASES):
        return True
    if any(t.startswith(w) for w in NO_WORDS):
        return False
    if any(t.startswith(w) for w in YES_WORDS) or t.startswith(("好像有", "有点", "应该有", "可能有")):
        return True
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


def dangerous(text: str) -> bool:
    """A hazard is said to be there (a negated one, "没冒烟也没打火", is not)."""
    return asserted(text or "", HAZARD)


NO_RISK = re.compile(r"(?:没|没有|没什么|没啥|不|不算|并不)(?:什么|啥)?(?:危险|安全隐患|隐患)(?![吗么嘛？?])")


def no_danger(text: str) -> bool:
    """The customer says there is no hazard: a named one denied ("没有冒烟打火"), or any ("没有危险")."""
    text = text or ""
    return denied(text, HAZARD) or (bool(NO_RISK.search(text)) and not dangerous(text))


POWER_CUT = re.compile(r"没电|停电|断电|黑了|跳闸")


def power_cut(text: str) -> bool:
    """The customer says the power is off ("灯闪了一下就没电了"), not that it is not ("不是停电，是电压不稳").
    Only what comes before the word is read for a negator: 没电 carries its own 没."""
    return any(not negated_at(text, m.start()) for m in POWER_CUT.finditer(text or ""))


def tou_action(text: str) -> str | None:
    """开通 / 取消, read with negation ("就是开通 不是取消" is 开通)."""
    if asserted(text, "|".join(DISABLE_WORDS)):
        return "disable"
    if asserted(text, "|".join(ENABLE_WORDS) + "|开") or text.strip() in ("要", "开吧"):
        return "enable"
    return None


BUSINESS_WORDS = (
    "饭店",
    "饭馆",
    "餐馆",
    "餐厅",
    "小吃",
    "店面",
    "门面",
    "门店",
    "铺面",
    "商铺",
    "店铺",
    "开店",
    "小店",
    "超市",
    "公司",
    "工厂",
    "厂房",
    "车间",
    "厂里",
    "作坊",
    "商用",
    "经营",
    "营业",
    "生意",
    "办公室",
    "仓库",
    "养殖",
    "大棚",
    "工地",
    "三相电",
    "动力电",
    "非居民",
)


def connection_type(text: str) -> str | None:
    """居民新装 / 非居民新装 / 增容 / 临时用电, from the customer's own words."""
    business = any(w in text for w in BUSINESS_WORDS)
    if "临时" in text:
        return "临时用电"
    if re.search(r"增容|扩容|加容量|增加容量|容量不够|加大容量|容量加大|加到\d+千瓦", text):
        return "增容"
    if re.search(r"新装|新庄|装.{0,2}电|接.{0,2}电|装.{0,3}表|开户|新房|新建|通电|报装|用电申请|申请用电", text):
        return "非居民新装" if business else "居民新装"
    if business and any(w in text for w in ("电表", "用电", "申请电")):
        return "非居民新装"
    return None


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


def without_numbers(text: str) -> str:
    """The words around the numbers: "户号3201000003，尾号0003" leaves "户号，尾号"."""
    return re.sub(r"[\d\s\-]+", "", compact(text or ""))


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


_PART = r"[\dA-Za-z一二三四五六七八九十]+(?:号楼|单元|栋|幢|号|室|楼|层|组)"
_ROOM = r"(?:[\d一二三四五六七八九十]+(?:室|号)?)?"  # "是3单元302 不是2单元": the room after the part is not the change
_PART_FIXES = (
    re.compile(rf"(?:是|应该是|改成|改为)\s*({_PART}){_ROOM}[\s，,]*不是\s*({_PART})"),  # new, old
    re.compile(rf"不是\s*({_PART}){_ROOM}[\s，,]*(?:是|而是|应该是)\s*({_PART})"),
)  # old, new


def corrected_part(text: str) -> tuple[str, str] | None:
    """(old, new) when one part of an address is corrected: "是3单元 不是2单元", "不是2单元，是3单元"."""
    t = text or ""
    m = _PART_FIXES[0].search(t)
    if m:
        return m.group(2), m.group(1)
    m = _PART_FIXES[1].search(t)
    return (m.group(1), m.group(2)) if m else None


NO_ACCOUNT_NO = re.compile(
    r"(?:不知道|不清楚|忘了|忘记了?|不记得|记不得|记不住|找不到|没有)(?:我的|我家|我们家)?(?:的)?户号"
    r"|户号(?:是)?(?:多少)?(?:我)?(?:也)?(?:不知道|不清楚|忘了|忘记了|不记得|记不得|找不到)"
)


def account_no_unknown(text: str, asked: bool) -> bool:
    """ "我不知道户号" (or, when the 户号 was just asked for, "忘了" / "不知道"): the customer cannot give it."""
    t = (text or "").strip(" 。，,.!！~啊呀")
    return bool(NO_ACCOUNT_NO.search(t)) or (
        asked and bool(re.fullmatch(r"(?:我)?(?:不知道|忘了|不记得了?|找不到)", t))
    )


def house_part(text: str) -> str | None:
    """ "1502室 门牌号你漏了": a building, unit or room said on its own, to complete the place already given."""
    t = glued(compact(text or ""))
    if ADDRESS_RE.search(t):
        return None
    m = re.search(rf"(?<![月\d])(?:{HOUSE_PART})+\d*", t)
    if m:
        return m.group()
    room = re.search(r"(?:房号|门牌号?|房间号)[^\d]{0,4}(\d{3,4})(?!\d)", t)  # "你漏了房号 是1203"
    return f"{room.group(1)}室" if room else None


def only_address(text: str) -> bool:
    """The message is a place and nothing else ("城东区和平路十二号 三单元")."""
    place = address(text) or ""
    rest = re.sub(
        r"[零一二三四五六七八九十百两\d]+(?:单元|栋|幢|楼|层|室|号|户)?",
        "",
        re.sub(r"\s", "", text or "").replace(place, ""),
    )
    return bool(place) and len(re.findall(r"[\u4e00-\u9fff]", rest)) < 2


DETAIL_LABEL = re.compile(
    r"(?:我家|家里|我|家)?(?:住在|住|就在|在|位于)$|(?:我的|我|详细)?(?:地址|住址)(?:是|在)?$"
    r"|(?:我的|联系|我)?(?:电话|手机|手机号|号码|联系方式)(?:号码)?(?:是|为|打)?$|户号(?:是)?$"
)


AT_PLACE = re.compile(r"^的?(?:门口|旁边|附近|对面|路口|楼下|楼上|那里|这里|那儿|这儿|上(?![个次周午半])|里(?!面))")


ASKS_US = re.compile(
    r"(?:要紧|危险|有没有事|没事|严重|怎么办|咋办|咋整|怎么弄|多久|多长时间|什么时候|啥时候|能不能|能否|会不会)"
    r"[^，,。；;！!]{0,4}(?:吧|吗|么|呢|啊|呀|不)?[？?]*$"
)  # a question to us at the end of a report ("…，不要紧吧"): not part of what is wrong


RESTATING = re.compile(r"再来一遍|重新报|重新说|重说|改成|改为|写成|就写|情况是")
ABOUT_US = re.compile(
    r"(?:刚才|刚刚|前面)(?:不是|都)?(?:说过|讲过|说了)|说了好几遍|你还没(?:说|回答)|你没听懂|答非所问|太离谱"
)  # words to the bot about the conversation, not about the problem


SYMPTOM = re.compile(r"没电|停电|断电|跳闸|倒了|断了|掉了|冒烟|冒火|火花|着火|烧了|烧焦|坏了|不亮|黑了|一闪")


def _asks_us(clause: str) -> bool:
    c = clause.rstrip("，,。；;！! ")
    return bool(re.search(r"[吗呢？?]$", c) or ASKS_US.search(c))


def description(text: str) -> str:
    """What is wrong as an order keeps it: greetings before it, a question to us and words to us about the
    conversation left out ("在吗，我家突然没电了，不要紧吧" keeps "我家突然没电了"; "唉，那再来一遍：电表走得快" keeps
    "电表走得快"); the text as it was when that would leave too little."""
    t = after_opening(text)
    restated = re.match(r"^(?P<head>[^：:]{0,16})[：:](?P<rest>.{4,})$", t)
    if restated and RESTATING.search(restated["head"]):
        t = restated["rest"]
    clauses = [c for c in re.split(r"(?<=[，,。；;！!？?])|\s+", t) if c.strip("，,。；;！!？? ")]
    clauses = [c for c in clauses if not ABOUT_US.search(c)]
    statements = [c for c in clauses if not _asks_us(c) or SYMPTOM.search(c)]  # "停电是不是因为电线杆倒了？" tells
    if chinese_chars("".join(statements)) >= 4:
        clauses = statements
    kept = "，".join(c.strip("，,。；;！!？? ") for c in clauses)
    return kept if chinese_chars(kept) >= 4 else (text or "").strip()


def restated(text: str) -> str | None:
    """A description given again in full at the read-back ("情况写错了 改成：从昨晚开始灯一闪一闪的"; "就写电表走得
    特别快")."""
    m = re.search(r"(?:改成|改为|写成|就写)[:：]?\s*(?P<new>[^。！!]{4,})$", text or "")
    return description(m["new"]) if m else None


def problem_words(text: str) -> str:
    """What is wrong, with the address, phone and 户号 said in the same sentence taken out ("我家在和平路12号，电话
    139…，从昨晚就停电了" leaves "从昨晚就停电了"); the clauses kept in their order."""
    t = MOBILE_RE.sub("，", LANDLINE_RE.sub("，", ACCOUNT_RE.sub("，", compact(text or ""))))
    t = glued(t)
    place = ADDRESS_RE.search(t) or LANDMARK_RE.search(t)
    if place and len(place.group()) >= 4 and not NOT_A_NAME.search(place.group()):  # and "…10号门口"
        t = t[: place.start()] + "，" + AT_PLACE.sub("", t[place.end() :])
    kept = []
    for clause in re.split(r"[，,。.；;！!\s]+", t):
        clause = DETAIL_LABEL.sub("", clause)
        if chinese_chars(clause):
            kept.append(clause)
    return description("，".join(kept))


CHASES = re.compile(
    r"(?:报修|报了|报的|报过|打过电话|反映过?)[^，。,！!？?]{0,8}(?:多久|半天|好久|几个小时|一天|还没|怎么还|咋还)"
    r"|(?:怎么|咋|为啥|为什么)还没(?:有)?人来|还没人来|催一下|催催|帮我催"
)


def chases(text: str) -> bool:
    """A repair already reported, chased ("我报修都多久了还没人来"): its progress, not a new report."""
    return bool(CHASES.search(text or ""))


ADD_NOTE = re.compile(r"写上|加上|补上|备注|记上|注明|写进去|加进去|加一句|补一句|也写|也记")
YES_LEAD = re.compile(r"^(?:[\s，,。.!！~]|对|是|好|行|嗯|可以|没错|的|吧|啊)+")


def note_to_add(text: str) -> str | None:
    """What the customer asks to have added at the read-back, without the asking: "对 你把单号G26120500002也写上"
    adds "单号G26120500002", "还有他骂人那个你也写上啊" adds "他骂人", "情况里加一句：一个月用了600多度电" what follows
    the colon. None when nothing is asked to be added."""
    said = YES_LEAD.sub("", (text or "").strip())
    found = ADD_NOTE.search(said)
    if not found:
        return None
    after = re.match(r"\s*[:：]\s*(.{2,})", said[found.end() :])
    if after:
        return after.group(1)[:200]
    before = re.split(r"[，,。；;！!\s]+", said[: found.start()].strip("，,。；;！! "))
    asked = r"^(?:还有|另外|再|要修改|修改|情况里?)?(?:你|麻烦你?|帮我)?(?:把|将)?|(?:那个|这个|那些)?(?:你|也|都)*$"
    clauses = [re.sub(asked, "", c) for c in before]
    note = "，".join(c for c in clauses if chinese_chars(c) or re.search(r"\d", c))
    return note[:200] or said[:200] or None


def describes(text: str) -> bool:
    """A sentence about the problem (not a number, a yes/no or a question to us)."""
    t = (text or "").strip()
    core = re.sub(r"户号|尾号|后四位|手机|电话|号码|联系|我叫|我姓|名字|就是|这个|是|的|号", "", without_numbers(t))
    chinese = chinese_chars(core)
    return chinese >= 5 and not t.endswith(("吗", "吗？", "吗?", "？", "?")) and (yes_no(t) is None or chinese >= 8)


def supplements(text: str) -> bool:
    return bool(SUPPLEMENT.search((text or "").strip()))


def upset(text: str) -> bool:
    return asserted(text or "", UPSET)


ONLY_THIS_HOME = re.compile(
    r"只有我家|就我家|只是我家|单单我家|邻居(?:家)?(?:都|也)?有电|别人家(?:都)?有电|楼上楼下(?:都)?有电|跳闸|闸(?:也)?没跳"
)
ASKS_FOR_REPAIR = re.compile(r"报修|登记|派人|上门|来修|修一下|(?<!不)(?:要|想)报")


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

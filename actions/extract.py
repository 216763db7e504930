"""Pulls slot values out of what a customer typed or said (speech gives 幺三九… as often as 139…)."""

from __future__ import annotations

import datetime as dt
import re

from backend.spoken import DIGITS, SPOKEN_RUN
from nlu.escalation import HAZARD
from nlu.negation import asserted, denied, negated_at

ACCOUNT_RE = re.compile(r"(?<![\dGg])(\d{10})(?!\d)")  # not the digits of an order number (G…)
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
LAST4_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
ORDER_RE = re.compile(r"(?<![A-Za-z0-9])[Gg]\s*(\d{11})(?!\d)")
ORDER_DIGITS_RE = re.compile(r"(?<!\d)(\d{11})(?!\d)")
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


def caller_means_this_phone(text: str) -> bool:
    """ "电话就这个" / "打这个号": the number the call comes from."""
    return bool(re.search(r"就(?:是)?这个(?:号|电话|手机)?|打这个|这个号|本机|来电(?:的)?号码|就用这个", text or ""))


ANSWER_LEAD = re.compile(
    r"^(?:[\s，,。.…~嗯呃啊哦喂呐哈]|那个|那(?=就|好|行|提交|可以|没问题|对|不|没)|就是"
    r"|对了(?=[\s，,]*(?:问|我再问|再问|还有|顺便|另外|你们|我想)))*"
)  # "对了 问一下…" is "by the way", not a yes


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


def without_numbers(text: str) -> str:
    """The words around the numbers: "户号3201000003，尾号0003" leaves "户号，尾号"."""
    return re.sub(r"[\d\s\-]+", "", compact(text or ""))


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

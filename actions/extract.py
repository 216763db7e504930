"""Pulls slot values out of what a customer typed or said (speech gives 幺三九… as often as 139…)."""
from __future__ import annotations

import datetime as dt
import re

DIGITS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
          "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_SPOKEN_RUN = re.compile("[零〇洞一幺二两三四五六七八九]{4,}")
ACCOUNT_RE = re.compile(r"(?<!\d)(\d{10})(?!\d)")
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
LAST4_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
ORDER_RE = re.compile(r"(?<![A-Za-z0-9])[Gg]\s*(\d{11})(?!\d)")
ORDER_DIGITS_RE = re.compile(r"(?<!\d)(\d{11})(?!\d)")
ADDRESS_RE = re.compile(
    r"[\u4e00-\u9fa5]{0,8}(?:区|县|镇|乡|街道|村|路|街|巷|大道|小区|花园|苑|家园|公寓|广场|大厦)"
    r"[\u4e00-\u9fa5\d\-#]{0,20}?(?:\d+|[一二三四五六七八九十]+)(?:号楼|号院|号|栋|幢|单元|室|组|楼)"
    r"(?:[\d一二三四五六七八九十]+(?:号|栋|幢|单元|室|组|楼)?)*")
ADDRESS_PREFIX = re.compile(r"^(?:不对|不是|错了|说错了|刚才说错了|改一下|[，,。 ])*(?:我的|我家|家里|我)?"
                            r"(?:地址|详细地址|住址)?(?:是|在|住在|住|位于|改成|改为|应该是)?[:：，, ]*")
CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
          "十一": 11, "十二": 12}
MONTH_RE = re.compile(r"(?:(\d{4})\s*[年\-/.]\s*)?(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月")
YES_WORDS = ("有", "是", "对", "冒烟", "着火", "火花", "打火", "掉", "断了", "危险", "嗯")
NO_WORDS = ("没有", "没", "无", "不是", "没看到", "都没有", "正常", "不存在", "不危险")
DANGER_WORDS = ("冒烟", "着火", "起火", "火花", "打火", "电线掉", "断线", "线断了", "电线落地", "触电", "漏电")
ENABLE_WORDS = ("开通", "办理", "申请", "办一个", "开一下", "要开", "装")
DISABLE_WORDS = ("取消", "关闭", "关掉", "不要了", "退订", "停用", "退掉", "撤销", "改回")


def spoken_digits(text: str) -> str:
    """Replaces runs of four or more spoken digits (幺三九…) with Arabic digits."""
    return _SPOKEN_RUN.sub(lambda m: "".join(DIGITS[c] for c in m.group()), text or "")


def compact(text: str) -> str:
    """Digits with the spaces and dashes people put between groups removed ("139 1234 0001")."""
    text = spoken_digits(text).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"(?<=\d)[\s\-]+(?=\d)", "", text)


def account_no(text: str) -> str | None:
    m = ACCOUNT_RE.search(compact(text))
    return m.group(1) if m else None


def mobile(text: str) -> str | None:
    t = compact(text)
    m = MOBILE_RE.search(t) or LANDLINE_RE.search(t)
    return m.group(1) if m else None


def last4(text: str) -> str | None:
    m = LAST4_RE.search(compact(text))
    return m.group(1) if m else None


def order_no(text: str, bare_digits: bool = False) -> str | None:
    t = compact(text)
    m = ORDER_RE.search(t) or (ORDER_DIGITS_RE.search(t) if bare_digits else None)
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
    return f"{y:04d}-{mo:02d}"


def address(text: str, whole_text: bool = False) -> str | None:
    """An address: a pattern match anywhere, or (when the bot just asked for it) the cleaned-up answer."""
    found = ADDRESS_RE.search(text or "")
    if found and len(ADDRESS_PREFIX.sub("", found.group())) >= 4:
        return ADDRESS_PREFIX.sub("", found.group()).strip()
    if whole_text:
        cleaned = ADDRESS_PREFIX.sub("", (text or "").strip()).strip(" 。，,.!！?？")
        if len(re.findall(r"[\u4e00-\u9fa5]", cleaned)) >= 3:
            return cleaned[:80]
    return None


PLACE_MARKERS = re.compile(r"区|县|市|镇|乡|村|路|街|巷|道|小区|花园|苑|园|号|栋|幢|单元|组|楼|大厦|广场|公寓|附近|旁边|对面|门口|路口|桥|站|厂|学校|医院|商场|超市")


def looks_like_address(text: str) -> bool:
    return bool(PLACE_MARKERS.search(text or "")) and len(re.findall(r"[\u4e00-\u9fa5]", text)) >= 3


def yes_no(text: str, intent: str | None = None) -> bool | None:
    """An answer to a yes/no question; long sentences that are about something else give None."""
    if len(text) > 16 and intent not in ("affirm", "deny"):
        return None
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    if any(w in text for w in DANGER_WORDS):
        return True
    if any(text.strip().startswith(w) for w in NO_WORDS) or "没有" in text:
        return False
    if any(w in text for w in YES_WORDS):
        return True
    return None


def dangerous(text: str) -> bool:
    return any(w in (text or "") for w in DANGER_WORDS)


def tou_action(text: str) -> str | None:
    if any(w in text for w in DISABLE_WORDS):
        return "disable"
    if any(w in text for w in ENABLE_WORDS) or text.strip() in ("开", "要", "开吧"):
        return "enable"
    return None


def connection_type(text: str) -> str | None:
    for words, value in ((("临时",), "临时用电"), (("增容", "扩容", "加容量", "增加容量", "容量不够"), "增容"),
                         (("新装", "装表", "装个表", "开户", "新房", "新建", "装电表", "通电"), "居民新装")):
        if any(w in text for w in words):
            return value
    return None

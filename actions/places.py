"""Where the customer says a place is: numbered addresses, landmarks and estates, a part put right, the account's
registered address meant ("登记的地址"). Text in, a place (or None) out."""

from __future__ import annotations

import re

from actions.extract import LANDLINE_RE, MOBILE_RE, compact
from backend.topology import DISTRICT_RE
from nlu.opening import chinese_chars

ADDRESS_RE = re.compile(
    r"[\u4e00-\u9fa5]{0,8}(?:区|县|镇|乡|街道|村|路|街|巷|大道|小区|花园|苑|家园|公寓|广场|大厦)"
    r"[\u4e00-\u9fa5\d\-#]{0,20}?(?:\d+|[一二三四五六七八九十]+)(?:号楼|号院|号|栋|幢|单元|室|组|楼)"
    r"(?:(?:[\u4e00-\u9fa5]{2,6}?(?:小区|花园|苑|家园|公寓|大厦|新村))?[\d一二三四五六七八九十]+(?:号楼|号|栋|幢|单元|室|组|楼)?)*"
)  # "北京东路39号幸福小区4栋1203室": the estate after the number is part of it
ADDRESS_PREFIX = re.compile(
    r"^(?:不对|不是|错了|说错了|刚才说错了|改一下|(?:要|再)?(?:加上|补上|添上|写上)|[，,。 ])*(?:我的|我家|家里|我)?"
    r"(?:地址|详细地址|住址)?(?:就是|就在|是|在|住在|住|位于|改成|改为|应该是)?[:：，, ]*"
)


ESTATE = r"[\u4e00-\u9fa5]{2,6}?(?:小区|花园|苑|家园|公寓|广场|大厦|村|社区|市场)"
LANDMARK_RE = re.compile(
    r"(?:[\u4e00-\u9fa5]{2}新?(?:区|县|镇|乡))?"
    r"(?:[\u4e00-\u9fa5]{1,6}?(?:路(?!灯)|街(?!灯)|巷|大道)(?:(?:跟|和|与|及)[\u4e00-\u9fa5]{1,6}?(?:路|街|巷|大道))?"
    rf"(?:{ESTATE})?|{ESTATE})"  # "幸福路幸福花园小区南门": the estate on the street is part of the place
    r"(?:[\u4e00-\u9fa5]{0,4}?(?:交叉口|路口|口|门口|对面|旁边|附近|北门|南门|东门|西门|南段|北段|东段|西段|那片|一带|村口))?"
)
PLACE_CLAUSE = re.compile(
    r"(?:靠近|挨着)?(?:那个|这个)?[\u4e00-\u9fa5]{2,8}?(?:对面|旁边|附近|门口|路口|后面|前面|楼下|隔壁)"
)  # "加油站对面", "靠近那个超市门口"
PRONOUN_LEAD = re.compile(
    r"^(?:喂|呃|嗯|啊|我们|我家|咱们|俺们|你们|他们|这个|那个|这边|那边|就是|就在|住在|我|咱|俺|在|是|就)+"
)
NOT_PLACE = re.compile(r"电话|手机|号码|户号|尾号|后四位|姓|叫|名字|快点|派人|赶紧|没电|停电|有电")


UNIT = r"(?:号楼|号院|号|栋|幢|单元|室|楼|层)"  # not 组: "李家村三组" is written as said
CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2, "幺": 1}
CN_POWER = {"十": 10, "百": 100, "千": 1000}
SAID_NUMBER = re.compile(rf"[零〇幺一二两三四五六七八九十百千]+(?={UNIT})")
SAID_ROOM = re.compile(r"(?:(?<=单元)|(?<=[栋幢号]))\s*[零〇幺一二两三四五六七八九]{3,4}(?![十百千])")  # "3单元五零一"


def cn_number(said: str) -> int:
    """ "一百六十三" -> 163, "十二" -> 12, "五零一" (digit by digit) -> 501, "一百六" -> 160."""
    if not any(c in CN_POWER for c in said):
        return int("".join(str(CN_DIGIT[c]) for c in said))
    total, digit, power, after_zero = 0, 0, 1, False
    for c in said:
        if c in CN_POWER:
            power = CN_POWER[c]
            total += (digit or 1) * power
            digit, after_zero = 0, False
        else:
            digit, after_zero = CN_DIGIT[c], after_zero or CN_DIGIT[c] == 0
    tail = digit * power // 10 if digit and power > 10 and not after_zero else digit  # "一百六": 160
    return total + tail


def numbered(text: str) -> str:
    """House numbers said in words written as digits ("仙林大道一百六十三号 十二栋一单元六零二" ->
    "仙林大道163号 12栋1单元602"), as a caller's words reach us and as a crew reads an address."""
    text = SAID_NUMBER.sub(lambda m: str(cn_number(m.group())), text or "")
    return SAID_ROOM.sub(lambda m: str(cn_number(m.group().strip())), text)


def district(text: str) -> str | None:
    m = DISTRICT_RE.search(text or "")
    return m.group() if m else None


NOT_A_NAME = re.compile(r"是不是|因为|为什么|怎么|[了吗吧呢]")  # "停电是不是因为路口…" names no street


def _landmark(text: str) -> str | None:
    """A place without a house number: "城南区东风路，加油站对面", "黄河路跟长江路路口", "城北区的"."""
    parts: list[str] = []
    for clause in re.split(r"[，,。；;！!？?\s]+", text or ""):
        clause = PRONOUN_LEAD.sub("", LANDLINE_RE.sub("", MOBILE_RE.sub("", compact(clause))))
        m = LANDMARK_RE.search(clause)
        if m and not parts and not NOT_PLACE.search(m.group()) and not NOT_A_NAME.search(m.group()):
            parts.append(m.group())
        elif parts and PLACE_CLAUSE.fullmatch(clause):
            parts.append(re.sub(r"那个|这个", "", clause))  # "加油站对面" right after the street
        elif m and len(parts) == 1 and DISTRICT_RE.fullmatch(parts[0]) and not NOT_PLACE.search(m.group()):
            parts.append(m.group())  # "就在城南区 呃 东风路": the street after the district said first
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
    rf"|(?<=[号栋幢元室楼])[，,]\s*(?=\d{{1,4}}{UNIT}|\d{{3,4}}(?![\d\-]))"
)  # "38号，3单元" is one place; "28号，13912340001" is a place and a phone


def glued(text: str | None) -> str:
    """Spaces between words and numbers taken out ("和平路 12号" -> "和平路12号"), as addresses are matched."""
    return SPACE_AT_DIGITS.sub("", text or "")


SAID_WRONG = re.compile(r"[，,。\s]*(?:哦|噢|啊|呃)?(?:不对|说错了|错了|不是)[，,。\s]*(?:是|应该是)?")
HOUSE_PART = r"[\d一二三四五六七八九十]+(?:号楼|号院|号|栋|幢|单元|室|楼)"


def unit_of(part: str) -> str:
    """ "165号" -> "号", "3单元" -> "单元": the kind of part of an address."""
    return re.sub(r"^[\d一二三四五六七八九十]+", "", part)


def corrected(text: str) -> str:
    """ "12号2栋 哦不对 是4栋 1502" as meant: "12号4栋 1502" (the part put right replaces the same part said)."""
    m = SAID_WRONG.search(text or "")
    first = m and m.start() > 0 and re.match(rf"\s*({HOUSE_PART})", text[m.end() :])
    if not m or not first:
        return text
    unit = unit_of(first.group(1))
    same = list(re.finditer(rf"[\d一二三四五六七八九十]+{unit}", text[: m.start()]))
    if not same:
        return text
    rest = text[m.end() :].strip()
    if rest == first.group(1):  # "163号 12栋602 门牌号说错了 是165号": only that part is put right
        return text[: same[-1].start()] + rest + text[same[-1].end() : m.start()]
    return text[: same[-1].start()] + rest


def address(text: str, whole_text: bool = False) -> str | None:
    """An address: a numbered address anywhere, else a named place (street, estate, village, crossing); when
    the bot just asked for it, a short answer that reads like a place."""
    text = glued(corrected(numbered(text)))
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


def house_part(text: str) -> str | None:
    """ "1502室 门牌号你漏了": a building, unit or room said on its own, to complete the place already given."""
    t = glued(compact(numbered(text or "")))
    if ADDRESS_RE.search(t):
        return None
    m = re.search(rf"(?<![月\d])(?:{HOUSE_PART})+\d*", t)
    if m:
        return m.group()
    room = re.search(r"(?:房号|门牌号?|房间号)[^\d]{0,4}(\d{3,4})(?!\d)", t)  # "你漏了房号 是1203"
    return f"{room.group(1)}室" if room else None


def replaced_part(known: str, part: str) -> str | None:
    """The place already given with one part put right ("165号" for the only "…号" in "仙林大道163号12栋"); None
    unless the place has exactly one part of that kind."""
    unit = unit_of(part)
    same = list(re.finditer(rf"\d+{unit}(?!楼|院)" if unit == "号" else rf"\d+{unit}", known or ""))
    if not unit or len(same) != 1 or same[0].group() == part:
        return None
    return known[: same[0].start()] + part + known[same[0].end() :]


def only_address(text: str) -> bool:
    """The message is a place and nothing else ("城东区和平路十二号 三单元")."""
    place = address(text) or ""
    rest = re.sub(
        r"[零一二三四五六七八九十百两\d]+(?:单元|栋|幢|楼|层|室|号|户)?",
        "",
        re.sub(r"\s", "", text or "").replace(place, ""),
    )
    return bool(place) and len(re.findall(r"[\u4e00-\u9fff]", rest)) < 2

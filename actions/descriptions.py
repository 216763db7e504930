"""What is wrong, as an order keeps it: the description without greetings, questions to us and words about the
conversation; what is added at the read-back; whether a message describes the problem at all."""

from __future__ import annotations

import re

from actions.acts import SUPPLEMENT
from actions.extract import ACCOUNT_RE, LANDLINE_RE, MOBILE_RE, compact, without_numbers, yes_no
from actions.places import ADDRESS_RE, LANDMARK_RE, NOT_A_NAME, glued
from nlu.opening import after_opening, chinese_chars

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

"""How a message opens before its matter: greetings and fillers ("喂 你好，在吗，我家没电了" is about 我家没电了).

One home for the NLU (a greeting that carries a request is the request) and the actions (an order's
description leaves the greeting out).
"""

from __future__ import annotations

import re

OPENING_WORDS = re.compile(
    r"^(?:[\s，,。.!！~…？?]|喂+|在吗|在不在|有人吗|你好|您好|哈喽|嗯|呃|啊|哎|哦|噢|那个|请问|那?还行|好吧|对了"
    r"|还有(?:一)?件事|还有个事|另外|顺便(?:说一下|问一下)?)+"
)  # "在吗，我家没电了" / "哦那还行 对了还有个事 我家…" start at 我家
HAN = re.compile(r"[\u4e00-\u9fa5]")


def chinese_chars(text: str) -> int:
    """How many Chinese characters: what "a real sentence" is measured in (digits and punctuation say little)."""
    return len(HAN.findall(text or ""))


def after_opening(text: str) -> str:
    """The message without the greetings and fillers it opens with."""
    return OPENING_WORDS.sub("", (text or "").strip())

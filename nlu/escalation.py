"""Signals in a customer's words that a person should take over now: anger, or danger to life.

Used by the channels (chat, WeChat, voice) on each message while an agent is online; the bot is then
asked to hand off (trigger_intent human_agent with the reason). Deliberately a short, precise lexicon:
a false alarm costs an agent's time, a miss leaves the bot's ordinary flow (which files danger as urgent).
"""
from __future__ import annotations

import re

from nlu.negation import asserted

DANGER = re.compile(r"触电|电到人|被电(到|了|击)|电死|电击|着火|起火|烧起来|爆炸|有人受伤|冒火|火苗")
ANGER_STRONG = re.compile(r"他妈|妈的|tmd|混蛋|(真|太|什么)垃圾|垃圾(服务|公司|客服|机器人)|滚(蛋|开)|废物|忍无可忍|受够了|气死(我)?了|什么破|破(公司|服务|机器人)")
ANGER_MILD = re.compile(r"投诉你们|太差(劲)?了|太过分|搞什么|到底(还)?要|没人管|火大|有病|骗子|耍我|听不懂人话|[!！]{3,}")


def escalation_reason(text: str) -> str | None:
    """'safety', 'anger' or None for one customer message."""
    t = (text or "")[:2000].lower()
    if asserted(t, DANGER):
        return "safety"
    if ANGER_STRONG.search(t) or len(ANGER_MILD.findall(t)) >= 2:
        return "anger"
    return None

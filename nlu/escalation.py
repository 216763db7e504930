"""Danger and anger in a customer's words: the one home of the hazard vocabulary.

DANGER_TO_LIFE (fire, electric shock, explosion, someone hurt) and anger bring a person at once when one is
online: the NLU marks the message (nlu.components.escalation_signal) and the dialogue hands over
(nlu.escalation_policy, actions.handoff). Every hazard, SITE_HAZARD included (a line down, sparks, smoke,
leaking current), makes a report urgent (actions.extract.dangerous). A negated hazard ("没有冒烟") is no hazard
anywhere (nlu.negation). The lexicon is short and precise on purpose: a false alarm costs an agent's time, a
miss leaves the bot's ordinary flow, which files danger as urgent.
"""

from __future__ import annotations

import re

from nlu.negation import asserted

DANGER_TO_LIFE = r"触电|电到人|被电(?:到|了|击)|电死|电击|着火|起火|烧起来|爆炸|有人受伤|冒火|火苗"
# 漏电保护(器)老跳 is the protector doing its job, not leaking current
SITE_HAZARD = (
    r"冒烟|火花|火星|打火|电线掉|线掉|掉在地上|掉地上|断线|线[^，。,；]{0,5}断(?!电)|电线落地|"
    r"(?:掉|落|拖|耷拉)(?:在|到)?(?:地上|地面|路边|路上|田埂)|漏电(?!保护|开关|断路|保)|被电|带电|烧焦"
)
LIFE_DANGER = re.compile(DANGER_TO_LIFE)
HAZARD = re.compile(f"{DANGER_TO_LIFE}|{SITE_HAZARD}")
# "妈的" as a curse, not "我妈的手机" or "爸妈的家"
ANGER_STRONG = re.compile(
    r"他妈|(?<![爸我咱俺老])妈的|tmd|混蛋|(真|太|什么)垃圾|垃圾(服务|公司|客服|机器人)|滚(蛋|开)|"
    r"废物|忍无可忍|受够了|气死(我)?了|什么破|破(公司|服务|机器人)"
)
ANGER_MILD = re.compile(
    r"投诉你们|太差(劲)?了|太过分|搞什么|到底(还)?要|没人管|火大|有病|骗子|耍我|听不懂人话|"
    r"[!！]{3,}"
)


def escalation_reason(text: str) -> str | None:
    """'safety', 'anger' or None for one customer message."""
    t = (text or "")[:2000].lower()
    if asserted(t, LIFE_DANGER):
        return "safety"
    if ANGER_STRONG.search(t) or len(ANGER_MILD.findall(t)) >= 2:
        return "anger"
    return None

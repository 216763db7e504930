"""The satisfaction scale of the follow-up survey (回访) and how a customer's typed answer reads on it.

5 非常满意 … 1 非常不满意. A reply is a score only when it is nothing but a score: "5", "五分", "打5分吧",
"满意", "不太满意", "还行"; "5号楼" or "好，谢谢" is not (the conversation goes on as usual). A survey reply may
add a comment after the score: "还行吧，就是来得有点慢".

Kept free of any dependency: the Rasa process (Python 3.10, nlu/survey_policy.py) reads answers with it too.
backend.workorders.wording re-exports it for the back end, the console and the actions.
"""

from __future__ import annotations

import re
import unicodedata

SCALE = ((5, "非常满意"), (4, "满意"), (3, "一般"), (2, "不满意"), (1, "非常不满意"))
_VERY = ("非常", "很", "特别", "十分", "相当", "挺", "蛮", "太", "超")
SCORE_WORDS: dict[str, int] = {
    **{f"{v}不满意": 1 for v in _VERY},
    "极不满意": 1,
    "非常差": 1,
    "很差": 1,
    "太差了": 1,
    "差评": 1,
    **dict.fromkeys(("不满意", "不太满意", "不大满意", "不是很满意", "不怎么满意", "不够满意", "有点不满意"), 2),
    **dict.fromkeys(("一般", "一般般", "还行", "还可以", "凑合", "马马虎虎", "还好", "中评"), 3),
    **dict.fromkeys(("满意", "比较满意", "还算满意", "基本满意", "还挺满意", "挺好", "不错", "还不错"), 4),
    **{f"{v}满意": 5 for v in _VERY if v not in ("挺", "蛮")},
    "挺满意": 4,
    "蛮满意": 4,
    "很好": 5,
    "非常好": 5,
    "满分": 5,
    "好评": 5,
    "五星好评": 5,
}
_NUMBER = re.compile(  # "5", "五分", "打5分", "我给这次服务打4分", "评分：3", "只能给2分"
    r"^(?:我的|评分是|评分|回访|我|只能|就|那就|给|打|评|你们|您|这次服务|这次|服务|个)*"
    r"([1-5一二两三四五])(?:分|星|颗星)?(?:好评)?$"
)
_CHINESE = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_FILLER_HEAD = ("嗯", "恩", "哦", "噢", "呃", "额", "啊")
_FILLER_TAIL = ("吧", "啊", "呀", "的", "了", "哈", "呢", "哦", "嘛")
_PUNCTUATION = " \t\r\n。！!，,~～.？?、；;：:…"


def score_of(text: str) -> int | None:
    """The score 1-5 a reply gives, or None when the reply is anything but a score."""
    t = unicodedata.normalize("NFKC", text or "")
    t = "".join(ch for ch in t if ch not in _PUNCTUATION)
    if not t or len(t) > 12:
        return None
    changed = True
    while changed and t:
        changed = False
        for head in _FILLER_HEAD:
            if t.startswith(head) and len(t) > len(head):
                t, changed = t[len(head) :], True
        for tail in _FILLER_TAIL:
            if t.endswith(tail) and len(t) > len(tail):
                t, changed = t[: -len(tail)], True
    found = _NUMBER.match(t)
    if found:
        digit = found.group(1)
        return int(digit) if digit.isdigit() else _CHINESE[digit]
    return SCORE_WORDS.get(t.removeprefix("我").removeprefix("感觉").removeprefix("觉得"))


def survey_reply(text: str) -> tuple[int, str] | None:
    """(score, comment) of an answer to a survey: a score alone, or a score and then a few words about it."""
    score = score_of(text)
    if score is not None:
        return score, ""
    parts = re.split(r"[，,。！!；;？?\s]+", (text or "").strip(), maxsplit=1)
    if len(parts) == 2 and parts[1].strip():
        head = score_of(parts[0])
        if head is not None:
            return head, parts[1].strip()[:200]
    return None

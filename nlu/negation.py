"""Chinese negation with scope: is a word in a message said, or said *not* to be the case?

"没有冒烟打火" and "没冒烟也没打火" deny both hazards; "线断了还在冒火花" asserts one. A negator (没有, 没, 不是,
无, 未, 别, 不) covers what follows it up to the end of its clause (a comma, a full stop, 但/就是/只是/而是
start a new one). Shared by the channels' danger check and the actions' slot extraction, so a negated
danger is never danger anywhere.
"""

from __future__ import annotations

import re

NEGATORS = ("没有", "没", "不是", "并非", "无", "未", "别", "不")
CLAUSE_BREAK = re.compile(r"[，,。.!！?？;；\s]|但是|但|就是|只是|而是|可是|不过|结果|现在")


def _clause_start(text: str, pos: int) -> int:
    start = 0
    for m in CLAUSE_BREAK.finditer(text, 0, pos):
        start = m.end()
    return start


def negated_at(text: str, pos: int, end: int | None = None) -> bool:
    """True when the word at text[pos:end] is inside the scope of a negator in its clause, or carries one
    itself ("线没断")."""
    clause = text[_clause_start(text, pos) : end or pos]
    return any(n in clause for n in NEGATORS)


def asserted(text: str, pattern: re.Pattern | str) -> bool:
    """Some match of `pattern` in `text` is not negated."""
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    return any(not negated_at(text, m.start(), m.end()) for m in rx.finditer(text or ""))


def denied(text: str, pattern: re.Pattern | str) -> bool:
    """Every match of `pattern` is negated (and there is at least one)."""
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    found = list(rx.finditer(text or ""))
    return bool(found) and all(negated_at(text, m.start(), m.end()) for m in found)

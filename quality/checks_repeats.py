"""Repeats (customer_repeats, bot_repeats): the same thing said three or more times, in close but not identical
wording. A turn is reduced to its core before comparing: width, case and punctuation folded, Chinese numbers
written as digits (十月 → 10月), words of one meaning made one (没电, 断电 → 停电; 啥时候 → 何时) and fillers
dropped (喂, 都说了, 我要…). Two cores are the same request when they do not name different numbers or months,
and one holds the other (with little added), or most distinct characters of the smaller recur in the other, or
their character bigrams or aligned characters mostly agree. customer_repeats (restated_turns) also counts a
restatement in other words: the same content words (jieba, synonyms made one, light words such as 找/叫/让 left
out), or one turn's words all in the other with one added, and no other numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from typing import Any

from quality.checks import ContactView, Hit, evidence, with_digits

NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)
CONTAINED_SHARE = 0.4  # "电表坏" inside "电表坏不走字" is the same request; "停电" inside a long other story is not
ADDED_CHARS = 6  # ... nor is it when little was added ("人工" ~ "不跟机器说人工")
SHARED_CHARS = 0.75  # share of the smaller set of distinct characters found in the other


@cache
def _alternation(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for `words`, longest first so 我们 goes before 我."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


@cache
def _synonym_table(groups: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """rules.yml writes a group as "停电 没电 断电": the first word stands for all of them."""
    table: dict[str, str] = {}
    for group in groups:
        words = group.split()
        for word in words:  # the first word too, so 欠费 is not read as 欠 (→ 欠费) + 费
            table.setdefault(word, words[0])
    return _alternation(tuple(table)), table


def folded(text: str, synonyms: tuple[str, ...] = ()) -> str:
    """Width, case and punctuation folded, numbers in digits, each synonym written as its group's first word."""
    text = NOT_WORD.sub("", with_digits(unicodedata.normalize("NFKC", text).lower()))
    pattern, table = _synonym_table(synonyms)
    return pattern.sub(lambda m: table[m.group(0)], text) if pattern is not None else text


def without(text: str, words: tuple[str, ...]) -> str:
    drop = _alternation(words)
    return drop.sub("", text) if drop is not None else text


@dataclass(frozen=True)
class Said:
    """A turn's core with what the similarity needs precomputed (a contact's turns are compared pairwise)."""

    turn: int
    text: str
    markers: tuple[str, ...]  # numbers and months: another month's bill is another request
    bigrams: frozenset[str]
    chars: Counter[str]

    @classmethod
    def of(cls, turn: int, text: str, markers: tuple[str, ...]) -> Said:
        bigrams = frozenset(text[k : k + 2] for k in range(len(text) - 1)) or frozenset({text})
        return cls(turn, text, markers, bigrams, Counter(text))


def similar(a: Said, b: Said, threshold: float) -> bool:
    """The same numbers and months where both name some, and one core holding the other (as a good part of it),
    or the bigrams (Dice, or the shorter's share) or the aligned characters agreeing at least `threshold`."""
    if a.markers and b.markers and a.markers != b.markers:
        return False
    if a.text == b.text:
        return True
    short, long = sorted((a, b), key=lambda s: len(s.text))
    if short.text in long.text and (
        len(short.text) >= CONTAINED_SHARE * len(long.text) or len(long.text) - len(short.text) <= ADDED_CHARS
    ):
        return True
    # the same content words in another order or with a word changed ("电表在跳" ~ "家里电表乱跳")
    shared_chars = len(a.chars.keys() & b.chars.keys())
    fewer, more = sorted((len(a.chars), len(b.chars)))
    if fewer >= 3 and more <= 2 * fewer and shared_chars >= SHARED_CHARS * fewer:
        return True
    shared = len(a.bigrams & b.bigrams)
    if 2 * shared / (len(a.bigrams) + len(b.bigrams)) >= threshold:
        return True
    if len(short.bigrams) >= 3 and shared / len(short.bigrams) >= 0.8 and len(long.text) <= 2 * len(short.text):
        return True
    # difflib's ratio is bounded by the shared characters: skip the alignment when even that bound is too low
    if 2 * sum((a.chars & b.chars).values()) / (len(a.text) + len(b.text)) < threshold:
        return False
    return SequenceMatcher(None, a.text, b.text, autojunk=False).ratio() >= threshold


def consistent(group: list[Said]) -> list[Said]:
    """A group around a turn without numbers may hold turns with different ones (查电费 ~ 查10月电费 ~ 查9月电费):
    keep those with the most common numbers, and those without any."""
    counts = Counter(s.markers for s in group if s.markers)
    if len(counts) <= 1:
        return group
    common = counts.most_common(1)[0][0]
    return [s for s in group if not s.markers or s.markers == common]


def repeated_turns(
    view: ContactView, params: Mapping[str, Any], same: Callable[[Said, Said, float], bool] = similar
) -> Hit | None:
    """The largest group of turns by `who` that are near-identical to one of them, when it has `times` turns.
    Turns that are only answers (好的, 对对对) or shorter than min_chars request nothing and are left out."""
    fillers, answers, synonyms = tuple(params["fillers"]), tuple(params["answers"]), tuple(params["synonyms"])
    said = []
    for i, t in view.window():
        if t.who != params["who"]:
            continue
        text = folded(t.text, synonyms)
        what = without(text, fillers)  # what was asked
        if len(what) >= params["min_chars"] and without(what, answers):
            said.append(Said.of(i, what, tuple(sorted(set(params["markers"].findall(text))))))
    if len(said) < params["times"]:
        return None
    groups: list[list[Said]] = [[s] for s in said]
    for x in range(len(said)):
        for y in range(x + 1, len(said)):
            if same(said[x], said[y], params["similarity"]):
                groups[x].append(said[y])
                groups[y].append(said[x])
    best: list[int] = []
    for group in groups:
        turns = sorted(s.turn for s in consistent(group))
        if len(turns) > len(best):
            best = turns
    if len(best) < params["times"]:
        return None
    return Hit(f"{len(best)}次", [evidence(view.contact, i) for i in best])


@cache
def _tokenizer(words: tuple[str, ...]) -> Any:
    """jieba with the synonym groups' first words known, so a normalised word stays one token; built once."""
    import jieba  # imported here: jieba builds its dictionary (about a second) on first use, not at import

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word, freq=100_000)
    return tokenizer


def content_words(text: str, synonyms: tuple[str, ...], light: tuple[str, ...]) -> frozenset[str]:
    """What a folded turn is about: its words after synonyms are made one, without fillers and light words
    (找, 叫, 让, 跟我说 carry no request of their own: 找你们领导 ~ 让你们领导跟我说)."""
    heads = tuple(sorted({group.split()[0] for group in synonyms if group.split()}))
    tokens = _tokenizer(heads).lcut(text, HMM=False)
    return frozenset(t for t in tokens if t not in light and not t.isdigit())


def restated(a: frozenset[str], b: frozenset[str]) -> bool:
    """The same content words, or one turn's words all in the other with one word added (电费多扣 ~ 多扣)."""
    if not a or not b:
        return False
    small, large = sorted((a, b), key=len)
    return small <= large and len(large) - len(small) <= 1


def restated_turns(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    """repeated_turns, with a turn also the same as another when it restates it in other words: the same content
    words after synonyms (找你们领导 / 叫你们领导来 / 让你们领导跟我说), no other numbers or months."""
    synonyms, light = tuple(params["synonyms"]), tuple(params["fillers"]) + tuple(params["light_words"])
    words = {
        i: content_words(folded(t.text, synonyms), synonyms, light) for i, t in view.window() if t.who == params["who"]
    }

    def same(a: Said, b: Said, threshold: float) -> bool:
        if similar(a, b, threshold):
            return True
        if a.markers != b.markers:
            return False
        return restated(words[a.turn], words[b.turn])

    return repeated_turns(view, params, same)

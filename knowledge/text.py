"""Chinese text features for lexical matching: domain segmentation, homophone repair and pinyin tokens.

Pinyin (toneless) makes speech-recognition homophones meet the word they stand for: 条闸 and 跳闸 are both
"tiao zha"; 店费 and 电费 are both "dian fei".
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba
from pypinyin import Style, lazy_pinyin

from knowledge.thesaurus import SUBSET, group_tokens
from nlu.components.text_normalizer import HOMOPHONES, load_homophones, normalize

JIEBA_DICT = Path(__file__).resolve().parent.parent / "nlu" / "lexicon" / "jieba" / "domain_dict.txt"
STOP = set(
    "的了吗呢啊吧呀哦嘛么是我你他她它们这那有在就都也还和跟给把被让要会能可以请问一下怎么什么"
    "，。！？、；：“”‘’（）()!?,.;: \t\n"
)
_tokenizer_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            t = jieba.Tokenizer()
            if JIEBA_DICT.exists():
                t.load_userdict(str(JIEBA_DICT))
            t.initialize()
            _tokenizer = t
    return _tokenizer


@lru_cache(maxsize=1)
def homophones() -> dict[str, str]:
    return load_homophones()


def clean(text: str) -> str:
    return normalize(text, homophones()).lower()


def words(text: str) -> list[str]:
    return [w for w in tokenizer().lcut(clean(text)) if w.strip() and w not in STOP]


def pinyin(text: str) -> list[str]:
    han = "".join(re.findall(r"[\u4e00-\u9fa5]", clean(text)))
    return lazy_pinyin(han, style=Style.NORMAL) if han else []


def pinyin_string(text: str) -> str:
    return " ".join(pinyin(text))


def char_ngrams(text: str, n: int = 2) -> list[str]:
    t = re.sub(r"\s+", "", clean(text))
    return [t[i : i + n] for i in range(len(t) - n + 1)]


def lexical_tokens(text: str) -> list[str]:
    """Tokens for BM25: words, their cilin synonym groups, character bigrams and pinyin-syllable bigrams
    (prefixed so they never collide)."""
    py, ws = pinyin(text), words(text)
    return ws + group_tokens(ws) + [f"c:{g}" for g in char_ngrams(text)] + [f"p:{a}_{b}" for a, b in zip(py, py[1:])]


def lexicon_version() -> str:
    """Changes whenever a lexicon that shapes lexical tokens changes (so cached calibrations are redone)."""
    h = hashlib.sha256()
    for path in (JIEBA_DICT, HOMOPHONES, SUBSET):
        h.update(path.read_bytes() if path.exists() else b"-")
    return h.hexdigest()[:12]

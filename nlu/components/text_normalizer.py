"""Text clean-up shared by the tokenizer: width folding, control characters, length cap, ASR homophones.

Replacements keep the string length, so token offsets still point into the original message and entity
positions found on the original text stay valid.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import yaml

from backend.spoken import digits_in_place

MAX_CHARS = 400  # long enough for a long complaint, short enough that 20 KB pastes stay cheap
HOMOPHONES = Path(__file__).resolve().parent.parent / "lexicon" / "homophones.yml"


def load_homophones(path: Path = HOMOPHONES) -> dict[str, str]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items() if len(str(k)) == len(str(v))}


def fold(ch: str) -> str:
    """Full-width ASCII to half-width, controls to spaces; one character in, one out."""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if ch == "\u3000" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
        return " "
    return ch


def normalize(text: str, homophones: dict[str, str] | None = None, max_chars: int = MAX_CHARS) -> str:
    text = digits_in_place("".join(fold(c) for c in (text or "")[:max_chars]))  # 幺三九… as a typed number
    for wrong, right in (homophones or {}).items():
        if wrong in text:
            text = text.replace(wrong, right)
    return text

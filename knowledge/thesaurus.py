"""General synonym expansion from HIT 同义词词林 (extended), cut down to the groups our domain uses.

Each cilin line is `code= word word …` (`=` synonyms, `#` related, `@` a lone word). Only `=` groups are
used: two words in one such group are interchangeable, so both get the group's token `g:<code>` next to
their own. Documents and queries are expanded the same way, so 开销 in a question meets 费用 in a synonym.

The shipped subset (nlu/lexicon/cilin_domain.txt) keeps the groups that contain a word of our own
vocabulary (catalog synonyms, NLU examples, knowledge articles): a query word can only help when the
document side has a group-mate, so nothing that matters is lost. knowledge.thesaurus_build cuts it out of the
wheel of the PyPI package `similarities` (Apache-2.0, which redistributes cilin).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ROOT / "nlu" / "lexicon" / "cilin_domain.txt"
MAX_GROUP = 24  # huge groups (lists of 100 kinds of fee) are related words, not synonyms


def parse(lines) -> dict[str, list[str]]:
    groups = {}
    for line in lines:
        m = re.match(r"^([A-Za-z]{2}\d{2}[A-Za-z]\d{2})=\s*(.+)$", line.strip())
        if m:
            members = [w for w in m.group(2).split() if len(w) >= 2]
            if 2 <= len(members) <= MAX_GROUP:
                groups[m.group(1)] = members
    return groups


@lru_cache(maxsize=1)
def word_groups(path: Path = SUBSET) -> dict[str, tuple[str, ...]]:
    """word → the group codes it belongs to (empty when the subset file is absent: expansion just turns off)."""
    if not path.exists():
        return {}
    out: dict[str, list[str]] = {}
    for code, members in parse(path.read_text(encoding="utf-8").splitlines()).items():
        for w in members:
            out.setdefault(w, []).append(code)
    return {w: tuple(c) for w, c in out.items()}


def group_tokens(words: list[str]) -> list[str]:
    groups = word_groups()
    return [f"g:{code}" for w in words for code in groups.get(w, ())]

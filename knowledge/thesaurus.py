"""General synonym expansion from HIT 同义词词林 (extended), cut down to the groups our domain uses.

Each cilin line is `code= word word …` (`=` synonyms, `#` related, `@` a lone word). Only `=` groups are
used: two words in one such group are interchangeable, so both get the group's token `g:<code>` next to
their own. Documents and queries are expanded the same way, so 开销 in a question meets 费用 in a synonym.

The shipped subset (nlu/lexicon/cilin_domain.txt) keeps the groups that contain a word of our own
vocabulary (catalog synonyms, NLU examples, knowledge articles): a query word can only help when the
document side has a group-mate, so nothing that matters is lost. Rebuild it from the wheel of the PyPI
package `similarities` (Apache-2.0, which redistributes cilin):

    python -m knowledge.thesaurus build --wheel similarities-1.2.4-py3-none-any.whl
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ROOT / "nlu" / "lexicon" / "cilin_domain.txt"
MAX_GROUP = 24          # huge groups (lists of 100 kinds of fee) are related words, not synonyms
HEADER = """# HIT-SCIR 同义词词林（扩展版）synonym groups ('=' lines) that touch this product's vocabulary.
# Source: PyPI package `similarities` 1.2.4 (https://github.com/shibing624/similarities), Apache License 2.0,
# file similarities/data/cilin.txt. Regenerate: python -m knowledge.thesaurus build --wheel <wheel>.
"""


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


def domain_vocabulary() -> set[str]:
    from knowledge.catalog import load_catalog
    from knowledge.kb import load_articles
    from knowledge.matcher import load_examples
    from knowledge.text import words
    catalog = load_catalog()
    texts = [s for f in catalog.functions.values() for s in (f.name, f.description, *f.synonyms)]
    texts += [t for t, _ in load_examples()]
    texts += [" ".join([a.title, *a.questions, a.spoken]) for a in load_articles()]
    return {w for t in texts for w in words(t) if len(w) >= 2}


def build(wheel: Path, out: Path = SUBSET) -> int:
    with zipfile.ZipFile(wheel) as z:
        raw = z.read("similarities/data/cilin.txt").decode("utf-8")
    vocab = domain_vocabulary()
    kept = [(code, members) for code, members in parse(io.StringIO(raw)).items() if vocab & set(members)]
    out.write_text(HEADER + "".join(f"{code}= {' '.join(m)}\n" for code, m in kept), encoding="utf-8")
    print(f"{len(kept)} groups touching {len(vocab)} domain words -> {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m knowledge.thesaurus")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="cut the domain subset out of the similarities wheel")
    b.add_argument("--wheel", type=Path, required=True)
    a = p.parse_args(argv)
    return build(a.wheel)


if __name__ == "__main__":
    raise SystemExit(main())

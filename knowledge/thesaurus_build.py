"""Cuts the domain subset of HIT 同义词词林 (knowledge.thesaurus) out of the wheel of the PyPI package
`similarities`: the synonym groups that contain a word of our own vocabulary (catalog synonyms, NLU
examples, knowledge articles).

    python -m knowledge.thesaurus_build build --wheel similarities-1.2.4-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

from knowledge.catalog import load_catalog
from knowledge.kb import load_articles
from knowledge.matcher import load_examples
from knowledge.text import words
from knowledge.thesaurus import SUBSET, parse

HEADER = """# HIT-SCIR 同义词词林（扩展版）synonym groups ('=' lines) that touch this product's vocabulary.
# Source: PyPI package `similarities` 1.2.4 (https://github.com/shibing624/similarities), Apache License 2.0,
# file similarities/data/cilin.txt. Regenerate: python -m knowledge.thesaurus_build build --wheel <wheel>.
"""


def domain_vocabulary() -> set[str]:
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
    p = argparse.ArgumentParser(prog="python -m knowledge.thesaurus_build")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="cut the domain subset out of the similarities wheel")
    b.add_argument("--wheel", type=Path, required=True)
    a = p.parse_args(argv)
    return build(a.wheel)


if __name__ == "__main__":
    raise SystemExit(main())

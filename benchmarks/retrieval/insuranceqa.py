"""External FAQ set for the retrieval benchmark: Chinese InsuranceQA, as shipped in a registry package.

Source: PyPI package `insuranceqa-data` version 1.0 (sdist insuranceqa_data-1.0.tar.gz), files
insuranceqa_data/{train,valid,test}.json.gz (questions: "zh", "answers": [answer ids]) and answers.json.gz
(answer id -> "zh"). Licence of that release: GPL-3.0 (its setup.py, classifier and LICENSE file). It is the
InsuranceQA corpus (Feng et al. 2015, questions from insurancelibrary.com answered by professionals),
machine-translated to Chinese. Later releases of the package no longer ship the data; 1.0 does.
The data is GPL-3.0, so it is not copied into this repository: this converter downloads the package with pip
(the package registry, like every other dependency) into the cache and writes the FAQ files there.

FAQ construction (nothing here was tuned on retrieval results):
- Different users' questions that professionals answered with the same answer are paraphrases of one FAQ.
  Every answer given to two or more questions becomes an FAQ entry: id = answer id, question = the first of
  its questions (file order train, valid, test), answer = the answer text. Its other questions are the
  queries, labelled with the ids of every FAQ entry their question was answered by.
- Queries identical to their FAQ question after lower-casing and dropping spaces and punctuation are left
  out (they test nothing).
- DISTRACTORS further entries, drawn with a fixed seed from the answers that have exactly one question
  (question + answer, no queries), make the collection an FAQ of realistic size.

    python -m benchmarks.retrieval.insuranceqa [--out DIR]     (prints the two file paths)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from knowledge.service import default_index_dir

PACKAGE = "insuranceqa-data==1.0"
MEMBER = "insuranceqa_data-1.0/insuranceqa_data/{name}.json.gz"
SPLITS = ("train", "valid", "test")
DISTRACTORS = 1500
SEED = 95598
SOURCE = {
    "package": "insuranceqa-data 1.0 (PyPI sdist insuranceqa_data-1.0.tar.gz)",
    "files": [MEMBER.format(name=n) for n in (*SPLITS, "answers")],
    "licence": "GPL-3.0 (setup.py, classifier, LICENSE of that release)",
    "content": "InsuranceQA (Feng et al. 2015), questions machine-translated to Chinese",
}


def default_dir() -> Path:
    return default_index_dir().parent / "bench-data" / "insuranceqa-faq"


def download(into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    found = sorted(into.glob("insuranceqa_data-1.0.tar.gz"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                str(into),
                PACKAGE,
            ],
            check=True,
        )
        found = sorted(into.glob("insuranceqa_data-1.0.tar.gz"))
    if not found:
        raise RuntimeError(f"pip did not bring {PACKAGE} into {into}")
    return found[0]


def read_package(sdist: Path) -> tuple[list[dict], dict[str, str]]:
    """(questions in file order as {"zh", "answers"}, answer id -> text)."""
    with tarfile.open(sdist) as tar:
        load = lambda name: json.loads(gzip.decompress(tar.extractfile(MEMBER.format(name=name)).read()))
        questions = [
            {"zh": q["zh"].strip(), "answers": [str(a) for a in q["answers"]]}
            for split in SPLITS
            for q in load(split).values()
        ]
        answers = {str(k): v["zh"].strip() for k, v in load("answers").items()}
    return questions, answers


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def build(
    questions: list[dict], answers: dict[str, str], distractors: int = DISTRACTORS, seed: int = SEED
) -> tuple[list[dict], list[dict]]:
    """(FAQ rows {"id", "question", "answer"}, query rows {"query", "id", "ids"})."""
    asked: dict[str, list[int]] = {}
    for n, q in enumerate(questions):
        for a in q["answers"]:
            asked.setdefault(a, []).append(n)
    grouped = [a for a, qs in asked.items() if len(qs) >= 2 and a in answers]
    singles = sorted(a for a, qs in asked.items() if len(qs) == 1 and a in answers)
    extra = random.Random(seed).sample(singles, min(distractors, len(singles)))
    faq = [{"id": a, "question": questions[asked[a][0]]["zh"], "answer": answers[a]} for a in [*grouped, *extra]]
    ids = {row["id"] for row in faq}
    queries, seen = [], set()
    for a in grouped:
        head = _key(questions[asked[a][0]]["zh"])
        for n in asked[a][1:]:
            text = questions[n]["zh"]
            if _key(text) == head or (text, a) in seen:
                continue
            seen.add((text, a))
            gold = [x for x in questions[n]["answers"] if x in ids]
            queries.append({"query": text, "id": a, "ids": gold})
    return faq, queries


def prepare(out: Path | None = None) -> tuple[Path, Path]:
    """Writes (once) faq.jsonl and queries.jsonl into `out` and returns their paths."""
    out = Path(out or default_dir())
    faq_path, queries_path = out / "faq.jsonl", out / "queries.jsonl"
    if not (faq_path.exists() and queries_path.exists()):
        with tempfile.TemporaryDirectory() as tmp:
            faq, queries = build(*read_package(download(Path(tmp))))
        out.mkdir(parents=True, exist_ok=True)
        for path, rows in ((faq_path, faq), (queries_path, queries)):
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        (out / "SOURCE.json").write_text(json.dumps(SOURCE, ensure_ascii=False, indent=1), encoding="utf-8")
    return faq_path, queries_path


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.retrieval.insuranceqa")
    p.add_argument("--out", type=Path, default=None)
    for path in prepare(p.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()

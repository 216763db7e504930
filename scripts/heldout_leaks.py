"""Held-out leak check: vocabulary or examples that the lexicons can only have taken from the test files.

    python3 -m scripts.heldout_leaks            # print the leaks; exit 1 if there are any
    python3 -m scripts.heldout_leaks --apply    # remove them (line edits: formatting and comments kept)

Held-out (test) data: benchmarks/data/heldout_requests.yml (`text`) and benchmarks/data/faq_queries.jsonl
(`query`). Training data: the examples of nlu/data/*.yml (intents, synonyms, lookups; entity markup removed)
and the full text of the KB articles under knowledge/kb/articles/.

A lexicon entry leaks when it occurs (as a substring) in some held-out text but in no training example and
in no KB article: nothing but the test set could have suggested it. Checked:
  (a) keys of nlu/lexicon/homophones.yml
  (b) `synonyms` of catalog/service_functions.yml (`seed_synonyms` come from the product owner: not checked)
  (j) words of nlu/lexicon/jieba/domain_dict.txt
  (c) held-out requests whose text equals a training example once punctuation and spaces are stripped
      (--apply deletes them from heldout_requests.yml)
Printed for information only (they do not fail the check and --apply leaves them): FAQ queries identical to
a training example (the FAQ benchmark scores article retrieval, which NLU examples do not label), held-out
requests identical to a catalog synonym or seed synonym, and seed synonyms found only in held-out texts.
Comparisons fold width and case (NFKC + casefold), as the matcher does before it looks up a word.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_REQUESTS = ROOT / "benchmarks" / "data" / "heldout_requests.yml"
FAQ_QUERIES = ROOT / "benchmarks" / "data" / "faq_queries.jsonl"
NLU_DATA = ROOT / "nlu" / "data"
KB_ARTICLES = ROOT / "knowledge" / "kb" / "articles"
HOMOPHONES = ROOT / "nlu" / "lexicon" / "homophones.yml"
CATALOG = ROOT / "catalog" / "service_functions.yml"
JIEBA_DICT = ROOT / "nlu" / "lexicon" / "jieba" / "domain_dict.txt"

ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")  # [text](entity) / [text]{"entity": ...}
EXAMPLE_KINDS = ("intent", "synonym", "lookup")  # regex entries are patterns, not text


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).casefold()


def squash(text: str) -> str:
    """For verbatim comparison: folded, without punctuation, symbols or spaces."""
    return "".join(c for c in fold(text) if unicodedata.category(c)[0] not in "PZSC")


# ---------------------------------------------------------------------------------------------- data


def heldout_requests() -> list[dict]:
    return yaml.safe_load(HELDOUT_REQUESTS.read_text(encoding="utf-8")) or []


def faq_queries() -> list[str]:
    lines = FAQ_QUERIES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["query"] for line in lines if line.strip()]


def heldout_texts() -> list[str]:
    return [str(item["text"]) for item in heldout_requests()] + faq_queries()


def training_examples() -> list[tuple[str, str]]:
    """(label, text) of every NLU training example; a synonym's own value counts as an example of it."""
    out = []
    for path in sorted(NLU_DATA.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or []:
            kind = next((k for k in EXAMPLE_KINDS if k in entry), None)
            if kind is None:
                continue
            label = str(entry[kind])
            if kind == "synonym":
                out.append((label, label))
            for line in str(entry.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append((label, ENTITY.sub(r"\1", line[2:].strip())))
    return out


def kb_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(KB_ARTICLES.rglob("*")) if p.is_file()]


def homophone_keys() -> list[str]:
    return [str(k) for k in (yaml.safe_load(HOMOPHONES.read_text(encoding="utf-8")) or {})]


def catalog_synonyms() -> list[tuple[str, str]]:
    """(function id, synonym) of every `synonyms` entry (seed_synonyms excluded)."""
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return [(f["id"], str(s)) for f in data["functions"] for s in f.get("synonyms") or []]


def jieba_words() -> list[str]:
    lines = JIEBA_DICT.read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.lstrip().startswith("#")]


# ---------------------------------------------------------------------------------------------- check


class Corpus:
    """Substring look-ups over the held-out texts and over the training texts (examples + KB)."""

    def __init__(self) -> None:
        self.heldout = [fold(t) for t in heldout_texts()]
        self.heldout_blob = "\n".join(self.heldout)
        self.train_blob = "\n".join(fold(t) for t in [t for _, t in training_examples()] + kb_texts())

    def leaks(self, word: str) -> bool:
        w = fold(word)
        return bool(w.strip()) and w in self.heldout_blob and w not in self.train_blob

    def example(self, word: str) -> str:
        w = fold(word)
        return next((t for t in self.heldout if w in t), "")


def find_leaks() -> dict:
    corpus = Corpus()
    homophones = [k for k in homophone_keys() if corpus.leaks(k)]
    seen, synonyms = set(), []
    for fid, s in catalog_synonyms():
        if corpus.leaks(s) and (fid, s) not in seen:
            seen.add((fid, s))
            synonyms.append((fid, s))
    jieba = list(dict.fromkeys(w for w in jieba_words() if corpus.leaks(w)))
    train = {}
    for label, text in training_examples():
        train.setdefault(squash(text), label)
    duplicates = []
    for i, item in enumerate(heldout_requests()):
        key = squash(item["text"])
        if key and key in train:
            duplicates.append(
                {
                    "index": i,
                    "text": item["text"],
                    "function": item.get("function"),
                    "style": item.get("style"),
                    "training_label": train[key],
                }
            )
    cat = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    lexicon = {}
    for f in cat["functions"]:
        for field in ("seed_synonyms", "synonyms"):
            for s in f.get(field) or []:
                lexicon.setdefault(squash(s), f"{f['id']}.{field}")
    info = {
        "faq_duplicates": [q for q in faq_queries() if squash(q) in train],
        "equal_to_lexicon": [
            (item["text"], lexicon[squash(item["text"])])
            for item in heldout_requests()
            if squash(item["text"]) in lexicon and squash(item["text"]) not in train
        ],
        "seed_only_in_heldout": [
            (f["id"], str(s)) for f in cat["functions"] for s in f.get("seed_synonyms") or [] if corpus.leaks(s)
        ],
    }
    return {
        "homophones": homophones,
        "synonyms": synonyms,
        "jieba": jieba,
        "duplicates": duplicates,
        "info": info,
        "corpus": corpus,
    }


def report(found: dict) -> int:
    corpus = found["corpus"]
    print(f"(a) homophone keys only in held-out texts: {len(found['homophones'])}")
    for k in found["homophones"]:
        print(f"    {k}\t| {corpus.example(k)}")
    print(f"(b) catalog synonyms only in held-out texts: {len(found['synonyms'])}")
    for fid, s in found["synonyms"]:
        print(f"    {fid}: {s}\t| {corpus.example(s)}")
    print(f"(j) jieba domain words only in held-out texts: {len(found['jieba'])}")
    for w in found["jieba"]:
        print(f"    {w}\t| {corpus.example(w)}")
    print(f"(c) held-out requests identical to a training example: {len(found['duplicates'])}")
    for d in found["duplicates"]:
        print(
            f"    #{d['index']} [{d['style']}] {d['function']}: {d['text']}"
            + ("" if d["training_label"] == d["function"] else f"  (training intent {d['training_label']})")
        )
    info = found["info"]
    print(f"info: FAQ queries identical to a training example: {len(info['faq_duplicates'])}")
    for q in info["faq_duplicates"]:
        print(f"    {q}")
    print(
        f"info: held-out requests identical to a catalog entry (not to a training example): "
        f"{len(info['equal_to_lexicon'])}"
    )
    for text, where in info["equal_to_lexicon"]:
        print(f"    {text}\t({where})")
    print(
        f"info: seed synonyms found only in held-out texts (kept: given by the product owner): "
        f"{len(info['seed_only_in_heldout'])}"
    )
    for fid, s in info["seed_only_in_heldout"]:
        print(f"    {fid}: {s}")
    return sum(len(found[k]) for k in ("homophones", "synonyms", "jieba", "duplicates"))


# ---------------------------------------------------------------------------------------------- apply


def drop_homophones(keys: set[str]) -> None:
    out = []
    for line in HOMOPHONES.read_text(encoding="utf-8").splitlines(keepends=True):
        m = re.match(r"""\s*(["']?)(.+?)\1\s*:""", line)
        if not (m and not line.lstrip().startswith("#") and m.group(2) in keys):
            out.append(line)
    HOMOPHONES.write_text("".join(out), encoding="utf-8")


def _unquote(item: str) -> str:
    item = item.strip()
    return item[1:-1] if len(item) >= 2 and item[0] == item[-1] and item[0] in "\"'" else item


def drop_catalog_synonyms(words: set[str]) -> None:
    """Removes items from the flow lists `synonyms: [...]` (possibly spanning lines), line by line."""
    out: list[str] = []
    in_block = False
    for line in CATALOG.read_text(encoding="utf-8").splitlines(keepends=True):
        eol = line[len(line.rstrip("\r\n")) :]
        body = line[: len(line) - len(eol)]
        if not in_block:
            m = re.match(r"(\s*synonyms:\s*\[)(.*)$", body)
            if not m:
                out.append(line)
                continue
            prefix, rest, in_block, first = m.group(1), m.group(2), True, True
        else:
            indent = len(body) - len(body.lstrip())
            prefix, rest, first = body[:indent], body[indent:], False
        closing = "]" in rest
        content, suffix = (rest.split("]", 1)[0], "]" + rest.split("]", 1)[1]) if closing else (rest, "")
        items = [i.strip() for i in content.split(",") if i.strip()]
        kept = [i for i in items if _unquote(i) not in words]
        if kept == items:
            out.append(line)
        elif kept:
            out.append(prefix + ", ".join(kept) + (suffix if closing else ",") + eol)
        elif closing:
            if first:
                out.append(prefix + suffix + eol)
            else:  # the list ends on a line that lost all its items: close it on the previous line
                prev = out.pop()
                prev_eol = prev[len(prev.rstrip("\r\n")) :]
                out.append(prev.rstrip("\r\n").rstrip(",") + suffix + prev_eol)
        elif first:
            out.append(prefix + eol)
        # a continuation line that lost all its items is dropped
        if closing:
            in_block = False
    CATALOG.write_text("".join(out), encoding="utf-8")


def drop_jieba(words: set[str]) -> None:
    lines = JIEBA_DICT.read_text(encoding="utf-8").splitlines(keepends=True)
    JIEBA_DICT.write_text(
        "".join(line for line in lines if not (line.split() and line.split()[0] in words)), encoding="utf-8"
    )


def drop_heldout_items(indices: set[int]) -> None:
    """Deletes whole list items (their `- ` line and the indented lines after it) from heldout_requests.yml."""
    out, index, keep = [], -1, True
    for line in HELDOUT_REQUESTS.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("- "):
            index += 1
            keep = index not in indices
        elif not line.startswith((" ", "\t")) and line.strip():
            keep = True  # a top-level comment or anything else between items
        if keep:
            out.append(line)
    HELDOUT_REQUESTS.write_text("".join(out), encoding="utf-8")


def apply(found: dict) -> None:
    before = {
        "homophones": yaml.safe_load(HOMOPHONES.read_text(encoding="utf-8")),
        "catalog": yaml.safe_load(CATALOG.read_text(encoding="utf-8")),
        "jieba": jieba_words(),
        "heldout": heldout_requests(),
    }
    words = {s for _, s in found["synonyms"]}
    dup = {d["index"] for d in found["duplicates"]}
    drop_homophones(set(found["homophones"]))
    drop_catalog_synonyms(words)
    drop_jieba(set(found["jieba"]))
    drop_heldout_items(dup)
    # the edited files must parse to exactly the old content less what was removed
    after_h = yaml.safe_load(HOMOPHONES.read_text(encoding="utf-8"))
    assert after_h == {k: v for k, v in before["homophones"].items() if str(k) not in found["homophones"]}
    after_c = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    expected = before["catalog"]
    for f in expected["functions"]:
        if "synonyms" in f:
            f["synonyms"] = [s for s in f["synonyms"] if str(s) not in words]
    assert after_c == expected, "catalog edit changed more than the removed synonyms"
    assert jieba_words() == [w for w in before["jieba"] if w not in set(found["jieba"])]
    assert heldout_requests() == [it for i, it in enumerate(before["heldout"]) if i not in dup]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apply", action="store_true", help="remove the leaks from the files")
    args = parser.parse_args(argv)
    found = find_leaks()
    total = report(found)
    if args.apply and total:
        apply(found)
        print("removed; re-checking")
        total = report(find_leaks())
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())

"""Request → service-function matching by synonym similarity (the seeds' 关键词与功能点同义词的相似度匹配).

Evidence per function: synonym hits on the cleaned text and on its pinyin (homophones), BM25 over the
function's vocabulary, and dense similarity to its synonyms, knowledge-base questions and training examples.
A logistic model turns the evidence into a calibrated probability; it is fitted leave-one-out on the NLU
training examples (each example scored against an index without itself), so thresholds mean something.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from knowledge.bm25 import BM25
from knowledge.catalog import Catalog
from knowledge.embedder import Embedder
from knowledge.kb import Article
from knowledge.text import clean, lexical_tokens, lexicon_version, pinyin_string
from knowledge.vector_index import VectorIndex

NLU_DIR = Path(__file__).resolve().parent.parent / "nlu" / "data"
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
CANDIDATES = 80
FEATURES = ("dense_max", "dense_top3", "bm25", "synonym", "pinyin_synonym", "dense_margin")
CONFIDENT, CLARIFY = 0.6, 0.3  # calibrated probability bands: answer / ask which one / don't know


def load_examples(nlu_dir: Path = NLU_DIR, functions: set[str] | None = None) -> list[tuple[str, str]]:
    """(text, function id) pairs from the Rasa NLU files, entity markup removed."""
    out = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            intent = block.get("intent")
            if not intent or (functions is not None and intent not in functions):
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append((ENTITY_MARKUP.sub(r"\1", line[2:].strip()), intent))
    return out


@dataclass
class Entry:
    text: str
    function: str
    source: str  # synonym | kb | example


@dataclass
class Match:
    function: str
    name: str
    score: float
    matched: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


class Matcher:
    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        entries: list[Entry],
        vectors: VectorIndex,
        weights: np.ndarray | None = None,
    ):
        self.catalog = catalog
        self.embedder = embedder
        self.entries = entries
        self.vectors = vectors
        self.functions = list(catalog.functions)
        self.fidx = {f: i for i, f in enumerate(self.functions)}
        self.entry_func = np.array([self.fidx[e.function] for e in entries], dtype=np.int64)
        docs = [" ".join([f.name, f.description, *f.synonyms]) for f in catalog.functions.values()]
        self.bm25 = BM25([lexical_tokens(d) for d in docs])
        self.synonyms = [
            (clean(s), pinyin_string(s), f.id)
            for f in catalog.functions.values()
            for s in f.synonyms
            if len(clean(s)) >= 2
        ]
        self.weights = weights

    # --- building -------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        folder: Path,
        catalog: Catalog,
        embedder: Embedder,
        articles: list[Article],
        examples: list[tuple[str, str]] | None = None,
    ) -> Matcher:
        examples = load_examples(functions=set(catalog.functions)) if examples is None else examples
        entries = [Entry(s, f.id, "synonym") for f in catalog.functions.values() for s in f.synonyms]
        entries += [
            Entry(q, a.function, "kb")
            for a in articles
            if a.function in catalog.functions
            for q in (a.title, *a.questions)
        ]
        entries += [Entry(t, f, "example") for t, f in examples]
        h = hashlib.sha256(json.dumps([(e.text, e.function) for e in entries], ensure_ascii=False).encode())
        want = {
            "model": embedder.name,
            "content_hash": h.hexdigest()[:16],
            "features": list(FEATURES),
            "lexicon": lexicon_version(),
        }
        vectors, rebuilt = VectorIndex.load_or_build(
            Path(folder), want, lambda: embedder.passages([e.text for e in entries], progress=True)
        )
        matcher = cls(catalog, embedder, entries, vectors)
        weights_file = Path(folder) / "calibration.json"
        if not rebuilt and weights_file.exists():
            matcher.weights = np.array(json.loads(weights_file.read_text())["weights"], dtype=np.float64)
        else:
            matcher.calibrate()
            weights_file.write_text(json.dumps({"features": FEATURES, "weights": matcher.weights.tolist()}))
        return matcher

    def calibrate(self) -> None:
        """Leave-one-out over the training examples: features of every candidate, 1 for the true function."""
        ex_rows = [i for i, e in enumerate(self.entries) if e.source == "example"]
        texts = [self.entries[i].text for i in ex_rows]
        qvecs = self.embedder.queries(texts)
        X, y = [], []
        for row, text, qvec in zip(ex_rows, texts, qvecs):
            feats = self.features(text, qvec, exclude=row)
            true = self.fidx[self.entries[row].function]
            X.append(feats)
            y.append((np.arange(len(self.functions)) == true).astype(np.float64))
        self.weights = fit_logistic(np.concatenate(X), np.concatenate(y))

    # --- scoring --------------------------------------------------------------------------------------
    def features(self, text: str, qvec: np.ndarray, exclude: int | None = None) -> np.ndarray:
        """One row of FEATURES per function."""
        n = len(self.functions)
        scores, ids = self.vectors.search(qvec[None, :], CANDIDATES)
        per_func: list[list[float]] = [[] for _ in range(n)]
        for s, i in zip(scores[0], ids[0]):
            if i >= 0 and i != exclude:
                per_func[self.entry_func[i]].append(float(s))
        floor = float(min(scores[0])) if len(scores[0]) else 0.0
        dense_max = np.array([max(v) if v else floor for v in per_func])
        dense_top3 = np.array([np.mean((sorted(v, reverse=True) + [floor] * 3)[:3]) for v in per_func])
        second = np.sort(dense_max)[-2] if n > 1 else 0.0
        margin = dense_max - np.where(dense_max == dense_max.max(), second, dense_max.max())
        bm = self.bm25.scores(lexical_tokens(text))
        bm = bm / bm.max() if bm.max() > 0 else bm
        syn, py_syn = self.synonym_hits(text)
        return np.stack([dense_max, dense_top3, bm, syn, py_syn, margin], axis=1)

    def synonym_hits(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Per function: share of the text covered by its longest synonym found (in characters / in pinyin)."""
        t, py = clean(text), " " + pinyin_string(text) + " "
        chars, pys = np.zeros(len(self.functions)), np.zeros(len(self.functions))
        length = max(len(re.sub(r"\s", "", t)), 1)
        for syn, syn_py, f in self.synonyms:
            i = self.fidx[f]
            if syn in t:
                chars[i] = max(chars[i], min(1.0, len(syn) / length) ** 0.5)
            elif syn_py and f" {syn_py} " in py:
                pys[i] = max(pys[i], min(1.0, len(syn) / length) ** 0.5)
        return chars, pys

    def probabilities(self, feats: np.ndarray) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("matcher is not calibrated")
        z = np.hstack([feats, np.ones((len(feats), 1))]) @ self.weights
        return 1 / (1 + np.exp(-z))

    def match(self, text: str, top_k: int = 3, customer_channels: list[str] | None = None) -> list[Match]:
        return self.match_vec(text, self.embedder.queries([text or " "])[0], top_k, customer_channels)

    def match_vec(
        self, text: str, qvec: np.ndarray, top_k: int = 3, customer_channels: list[str] | None = None
    ) -> list[Match]:
        probs = self.probabilities(self.features(text, qvec))
        t, py = clean(text), " " + pinyin_string(text) + " "
        out = []
        for i in np.argsort(-probs)[:top_k]:
            f = self.functions[i]
            why = [s for s, s_py, g in self.synonyms if g == f and (s in t or (s_py and f" {s_py} " in py))]
            out.append(
                Match(
                    f,
                    self.catalog.name(f),
                    round(float(probs[i]), 4),
                    sorted(set(why), key=len, reverse=True)[:5],
                    self.catalog.recommend_channels(f, customer_channels, limit=3),
                )
            )
        return out


def decision(score: float) -> str:
    return "confident" if score >= CONFIDENT else "clarify" if score >= CLARIFY else "unknown"


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-3, iters: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method (a handful of features, tens of thousands of rows)."""
    Xb = np.hstack([X, np.ones((len(X), 1))])
    w = np.zeros(Xb.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(Xb @ w)))
        grad = Xb.T @ (p - y) + l2 * w
        hess = (Xb * (p * (1 - p))[:, None]).T @ Xb + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w

"""The customer's emotion in one turn: calm, anxious, dissatisfied, angry or satisfied.

A small classifier (character 1-2-gram TF-IDF + a linear SVM) trained on quality/data/emotion_train.yml when
first loaded: about 1,200 single customer turns, voice transcripts and chat, which trains in a fraction of a
second, so nothing is cached on disk and the model always matches the data file. Characters rather than words:
jieba's dictionary knows little of ASR errors (店费, 互号) or dialect, and n-grams of characters carry them.
Chosen by 5-fold cross-validation on the training file alone (logistic regression scored the same, ten times
slower to train; 1-3-grams scored lower).
"""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path
from typing import Any

import yaml

LABELS = ("calm", "anxious", "dissatisfied", "angry", "satisfied")
TRAINING_FILE = Path(__file__).resolve().parent / "data" / "emotion_train.yml"
MAX_CHARS = 500  # one turn; a pasted essay is judged by its start

_cache: dict[tuple[str, float], EmotionModel] = {}
_cache_lock = threading.Lock()


def normalise(text: str) -> str:
    """Full-width to half-width (！ → !), lower case, cut to MAX_CHARS."""
    return unicodedata.normalize("NFKC", text or "").lower()[:MAX_CHARS]


def read_examples(path: Path = TRAINING_FILE) -> tuple[list[str], list[str]]:
    """The (texts, labels) of a training file; ValueError naming the example when a label is unknown."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts: list[str] = []
    labels: list[str] = []
    for n, example in enumerate(raw.get("examples") or [], start=1):
        label = example.get("label")
        if label not in LABELS:
            raise ValueError(f"{path.name}: example {n} has label {label!r}, not one of {LABELS}")
        texts.append(str(example.get("text") or ""))
        labels.append(label)
    if not texts:
        raise ValueError(f"{path.name}: no examples")
    return texts, labels


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), preprocessor=normalise, sublinear_tf=True),
        LinearSVC(C=0.5, class_weight="balanced"),
    )


class EmotionModel:
    def __init__(self, classifier: Any) -> None:
        self._classifier = classifier

    @classmethod
    def train(cls, texts: list[str], labels: list[str]) -> EmotionModel:
        classifier = _pipeline()
        classifier.fit(texts, labels)
        return cls(classifier)

    @classmethod
    def load(cls, path: Path | None = None) -> EmotionModel:
        """The model trained on `path` (the shipped training file by default), trained once per process and file
        version."""
        path = path or TRAINING_FILE
        key = (str(path), path.stat().st_mtime)
        with _cache_lock:
            if key not in _cache:
                _cache[key] = cls.train(*read_examples(path))
            return _cache[key]

    def predict(self, texts: list[str]) -> list[str]:
        """One label per text; an empty or blank turn is calm."""
        if not texts:
            return []
        labels = ["calm"] * len(texts)
        spoken = [i for i, t in enumerate(texts) if normalise(t).strip()]
        if spoken:
            for i, label in zip(spoken, self._classifier.predict([texts[i] for i in spoken])):
                labels[i] = str(label)
        return labels


def cross_validated_accuracy(path: Path = TRAINING_FILE, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy over stratified folds of the training file (shuffled with `seed`)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    texts, labels = read_examples(path)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(_pipeline(), texts, labels, cv=splitter, scoring="accuracy").mean())

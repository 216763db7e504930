"""Sentence embeddings (sentence-transformers), model folder from configuration, e5-style prefixes."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

DEFAULT_PREFIXES = {"query": "query: ", "passage": "passage: "}   # multilingual-e5 expects these


class Embedder:
    def __init__(self, model_dir: str | Path, query_prefix: str | None = None, passage_prefix: str | None = None,
                 batch_size: int = 64):
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "modules.json").exists():
            raise FileNotFoundError(f"no sentence-transformers model at {self.model_dir} "
                                    "(make run builds one; or set EMBED_MODEL_DIR)")
        self.query_prefix = DEFAULT_PREFIXES["query"] if query_prefix is None else query_prefix
        self.passage_prefix = DEFAULT_PREFIXES["passage"] if passage_prefix is None else passage_prefix
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "Embedder":
        model_dir = os.environ.get("EMBED_MODEL_DIR")
        if not model_dir:
            raise RuntimeError("EMBED_MODEL_DIR is not set (scripts/bootstrap.sh sets it)")
        return cls(model_dir, os.environ.get("EMBED_QUERY_PREFIX"), os.environ.get("EMBED_PASSAGE_PREFIX"))

    @property
    def name(self) -> str:
        return self.model_dir.name

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer
                torch.set_num_threads(int(os.environ.get("EMBED_THREADS", "2")))
                self._model = SentenceTransformer(str(self.model_dir), device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def _encode(self, texts: list[str], prefix: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self.model.encode([prefix + t for t in texts], batch_size=self.batch_size, normalize_embeddings=True,
                                 show_progress_bar=progress, convert_to_numpy=True)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix, progress=False)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prefix, progress)

"""Sentence embeddings from the model folder in the configuration, e5-style prefixes.

Two back ends for the same model: ONNX Runtime on the graph that `knowledge.model_convert` writes
next to the weights (the default: ~8 ms of CPU per query on one thread, no torch in the process), and
sentence-transformers on torch (EMBED_BACKEND=torch, or when the folder has no ONNX graph). The back end
is part of `name`, so an index built with one is rebuilt, not reused, by the other. Query vectors are
cached: a hotline hears the same short sentences all day ("停电了", "转人工", "查电费").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from knowledge.model_convert.onnx_export import ONNX_FILE

DEFAULT_PREFIXES = {"query": "query: ", "passage": "passage: "}  # multilingual-e5 expects these
MAX_TOKENS = 256


class QueryCache:
    """A small LRU of query vectors (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            vec = self._items.get(key)
            if vec is not None:
                self._items.move_to_end(key)
            return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        with self._lock:
            self._items[key] = vec
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class OnnxEncoder:
    """The exported graph (encoder + mean pooling + normalisation) with the folder's fast tokenizer."""

    def __init__(self, model_dir: Path, threads: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        pad = self.tokenizer.token_to_id("<pad>")
        self.tokenizer.enable_padding(pad_id=1 if pad is None else pad, pad_token="<pad>")
        self.dimension = int(self.session.get_outputs()[0].shape[-1] or self.encode(["x"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in batch], dtype=np.int64)
        mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


class TorchEncoder:
    def __init__(self, model_dir: Path, threads: int):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self.dimension = int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True)


class Embedder:
    def __init__(
        self,
        model_dir: str | Path,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        backend: str | None = None,
        threads: int | None = None,
        cache_size: int = 4096,
    ):
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "modules.json").exists():
            raise FileNotFoundError(
                f"no sentence-transformers model at {self.model_dir} (make run builds one; or set EMBED_MODEL_DIR)"
            )
        self.query_prefix = DEFAULT_PREFIXES["query"] if query_prefix is None else query_prefix
        self.passage_prefix = DEFAULT_PREFIXES["passage"] if passage_prefix is None else passage_prefix
        self.batch_size = batch_size
        has_onnx = (self.model_dir / ONNX_FILE).exists()
        self.backend = backend or ("onnx" if has_onnx else "torch")
        if self.backend not in ("onnx", "torch"):
            raise ValueError(f"unknown embedding back end {self.backend!r} (onnx or torch)")
        if self.backend == "onnx" and not has_onnx:
            raise FileNotFoundError(
                f"no ONNX graph at {self.model_dir / ONNX_FILE} (rebuild with knowledge.model_convert)"
            )
        self.threads = threads or (1 if self.backend == "onnx" else 2)
        self.cache = QueryCache(cache_size)
        self._encoder: OnnxEncoder | TorchEncoder | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.model_dir.name + ("-onnx" if self.backend == "onnx" else "")

    @property
    def encoder(self) -> OnnxEncoder | TorchEncoder:
        with self._lock:
            if self._encoder is None:
                kind = OnnxEncoder if self.backend == "onnx" else TorchEncoder
                self._encoder = kind(self.model_dir, self.threads)
        return self._encoder

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    def _encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # similar lengths batched together: padding is most of the cost of a mixed batch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        if progress and len(texts) > 10 * self.batch_size:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for start in starts:
            rows = order[start : start + self.batch_size]
            out[rows] = self.encoder.encode([texts[i] for i in rows])
        return out

    def queries(self, texts: list[str]) -> np.ndarray:
        keys = [self.query_prefix + t for t in texts]
        found = [self.cache.get(k) for k in keys]
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            fresh = self._encode([keys[i] for i in missing])
            for i, vec in zip(missing, fresh):
                found[i] = vec
                self.cache.put(keys[i], vec)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.stack(found), dtype=np.float32)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode([self.passage_prefix + t for t in texts], progress)

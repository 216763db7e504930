"""FAISS inner-product index persisted with a manifest; rebuilt only when content or model changed.

Exact (IndexFlatIP) up to APPROX_THRESHOLD vectors, IVF above it (nprobe set again after loading). A corrupt or missing index is rebuilt.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

log = logging.getLogger(__name__)
APPROX_THRESHOLD = 20_000
NPROBE = 24
MANIFEST = "manifest.json"
INDEX_FILE = "vectors.faiss"


class UnusableIndexError(RuntimeError):
    """The index folder is unusable (corrupt, or written by another model)."""


@dataclass
class VectorIndex:
    index: faiss.Index
    manifest: dict

    @staticmethod
    def build(vectors: np.ndarray, approx_threshold: int = APPROX_THRESHOLD) -> faiss.Index:
        dim = vectors.shape[1]
        if len(vectors) <= approx_threshold:
            index = faiss.IndexFlatIP(dim)
            index.add(vectors)
            return index
        # IVF: k-means cells, search the nearest few; builds in seconds where HNSW takes minutes on 2 cores
        nlist = int(4 * np.sqrt(len(vectors)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * nlist), replace=False)]
        index.train(sample)
        index.add(vectors)
        index.nprobe = NPROBE
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, self.index.ntotal))
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / INDEX_FILE))
        (folder / MANIFEST).write_text(json.dumps(self.manifest, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "VectorIndex":
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            index = faiss.read_index(str(folder / INDEX_FILE))
            if hasattr(index, "nprobe"):
                index.nprobe = NPROBE
        except (OSError, ValueError, RuntimeError) as e:
            raise UnusableIndexError(f"index at {folder} is missing or corrupt: {e}") from e
        if index.ntotal != manifest.get("count"):
            raise UnusableIndexError(f"index at {folder} has {index.ntotal} vectors, manifest says {manifest.get('count')}")
        return cls(index, manifest)

    @classmethod
    def load_or_build(cls, folder: Path, want: dict, encode: Callable[[], np.ndarray]) -> tuple["VectorIndex", bool]:
        """Loads the index when its manifest matches `want` (model, content hash); else builds and saves it.

        Returns (index, rebuilt)."""
        try:
            found = cls.load(folder)
            if all(found.manifest.get(k) == v for k, v in want.items()):
                return found, False
            log.info("index at %s is stale (content or model changed): rebuilding", folder)
        except UnusableIndexError as e:
            if (folder / MANIFEST).exists() or (folder / INDEX_FILE).exists():
                log.warning("%s: rebuilding", e)
        t0 = time.time()
        vectors = encode()
        index = cls.build(vectors)
        built = cls(index, {**want, "count": int(index.ntotal), "dimension": int(vectors.shape[1]),
                            "kind": type(index).__name__, "build_seconds": round(time.time() - t0, 2)})
        built.save(folder)
        return built, True

"""FAISS inner-product index persisted with a manifest; rebuilt only when content, model or index kind changed.

Exact (IndexFlatIP) up to APPROX_THRESHOLD vectors, HNSW above it (IndexHNSWFlat, inner product; efSearch set
again after loading). HNSW rather than IVF: at 100k articles (200k passages grown from ours,
benchmarks/retrieval/kb_scale.py) the IVF used before (nlist 4*sqrt(n), nprobe 24) kept 0.85 of the exact
top 10, this HNSW 0.93 at about 1 ms a query; it takes about a minute to build there. The manifest records
the kind and its parameters; an index of another kind than `build` would make is rebuilt, as is a corrupt
or missing one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)
APPROX_THRESHOLD = 20_000
HNSW_M = 24  # links per node
HNSW_EF_CONSTRUCTION = 60
HNSW_EF_SEARCH = 256  # candidates kept while searching (>= the k asked for)
MANIFEST = "manifest.json"
INDEX_FILE = "vectors.faiss"


class UnusableIndexError(RuntimeError):
    """The index folder is unusable (corrupt, or written by another model)."""


@dataclass
class VectorIndex:
    index: faiss.Index
    manifest: dict

    @staticmethod
    def build(vectors: np.ndarray, approx_threshold: int | None = None) -> faiss.Index:
        dim = vectors.shape[1]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if kind_for(len(vectors), approx_threshold) == "IndexFlatIP":
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        tune(index)
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, self.index.ntotal))
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these passages (flat and HNSW-flat indexes keep them exactly)."""
        return self.index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / INDEX_FILE))
        (folder / MANIFEST).write_text(json.dumps(self.manifest, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> VectorIndex:
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            index = faiss.read_index(str(folder / INDEX_FILE))
            tune(index)
        except (OSError, ValueError, RuntimeError) as e:
            raise UnusableIndexError(f"index at {folder} is missing or corrupt: {e}") from e
        if index.ntotal != manifest.get("count"):
            raise UnusableIndexError(
                f"index at {folder} has {index.ntotal} vectors, manifest says {manifest.get('count')}"
            )
        return cls(index, manifest)

    @classmethod
    def load_or_build(cls, folder: Path, want: dict, encode: Callable[[], np.ndarray]) -> tuple[VectorIndex, bool]:
        """Loads the index when its manifest matches `want` (model, content hash); else builds and saves it.

        Returns (index, rebuilt)."""
        try:
            found = cls.load(folder)
            if all(found.manifest.get(k) == v for k, v in want.items()) and type(found.index).__name__ == kind_for(
                found.index.ntotal
            ):
                return found, False
            log.info("index at %s is stale (content, model or index kind changed): rebuilding", folder)
        except UnusableIndexError as e:
            if (folder / MANIFEST).exists() or (folder / INDEX_FILE).exists():
                log.warning("%s: rebuilding", e)
        t0 = time.time()
        vectors = encode()
        index = cls.build(vectors)
        built = cls(
            index,
            {
                **want,
                "count": int(index.ntotal),
                "dimension": int(vectors.shape[1]),
                "kind": type(index).__name__,
                **parameters(index),
                "build_seconds": round(time.time() - t0, 2),
            },
        )
        built.save(folder)
        return built, True


def kind_for(count: int, approx_threshold: int | None = None) -> str:
    """The FAISS index class `build` makes for this many vectors (an index of another kind is rebuilt)."""
    return (
        "IndexFlatIP"
        if count <= (APPROX_THRESHOLD if approx_threshold is None else approx_threshold)
        else "IndexHNSWFlat"
    )


def tune(index: faiss.Index) -> None:
    """Search-time settings, which a loaded index does not keep reliably: set after building and after loading."""
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH


def parameters(index: faiss.Index) -> dict:
    if isinstance(index, faiss.IndexHNSW):
        return {
            "hnsw": {
                "M": int(index.hnsw.nb_neighbors(1)),
                "ef_construction": int(index.hnsw.efConstruction),
                "ef_search": int(index.hnsw.efSearch),
            }
        }
    return {}

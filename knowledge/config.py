"""The knowledge service's settings: one typed object, read from the environment once, checked when built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from knowledge.embedder import Embedder

BACKENDS = ("onnx", "torch")


class ConfigError(ValueError):
    pass


def default_index_dir(env: Mapping[str, str] | None = None) -> Path:
    """P95598_INDEX_DIR, else indexes/ in the project's cache (P95598_CACHE, else ~/.cache/p95598)."""
    env = os.environ if env is None else env
    cache = Path(env.get("P95598_CACHE") or Path.home() / ".cache" / "p95598")
    return Path(env.get("P95598_INDEX_DIR") or cache / "indexes")


@dataclass(frozen=True)
class KnowledgeConfig:
    model_dir: str  # EMBED_MODEL_DIR: the sentence-embedding model (scripts/bootstrap.sh)
    index_dir: Path  # indexes live in a folder per embedding model below this
    query_prefix: str | None = None  # EMBED_QUERY_PREFIX / EMBED_PASSAGE_PREFIX: None = the model's own
    passage_prefix: str | None = None
    embed_backend: str | None = None  # EMBED_BACKEND onnx | torch; None: ONNX when the model folder has it
    embed_threads: int | None = None  # EMBED_THREADS; None: the back end's default
    search_threads: int = 2  # searches run in this many threads, off the event loop

    def __post_init__(self) -> None:
        if not self.model_dir:
            raise ConfigError("EMBED_MODEL_DIR is not set (scripts/bootstrap.sh sets it)")
        if self.embed_backend is not None and self.embed_backend not in BACKENDS:
            raise ConfigError(f"EMBED_BACKEND must be one of {', '.join(BACKENDS)}, got {self.embed_backend!r}")
        if (self.embed_threads is not None and self.embed_threads < 1) or self.search_threads < 1:
            raise ConfigError("thread counts must be at least 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KnowledgeConfig:
        env = os.environ if env is None else env
        threads = env.get("EMBED_THREADS")
        try:
            embed_threads = int(threads) if threads else None
        except ValueError:
            raise ConfigError(f"EMBED_THREADS must be a number, got {threads!r}") from None
        return cls(
            model_dir=env.get("EMBED_MODEL_DIR", ""),
            index_dir=default_index_dir(env),
            query_prefix=env.get("EMBED_QUERY_PREFIX"),
            passage_prefix=env.get("EMBED_PASSAGE_PREFIX"),
            embed_backend=env.get("EMBED_BACKEND") or None,
            embed_threads=embed_threads,
        )

    def embedder(self) -> Embedder:
        return Embedder(
            self.model_dir,
            self.query_prefix,
            self.passage_prefix,
            backend=self.embed_backend,
            threads=self.embed_threads,
        )

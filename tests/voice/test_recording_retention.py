"""Retention of call recordings: past `P95598_RECORDING_DAYS` the audio file is deleted and the row stays, marked
deleted; the gateway's sweep does it while it runs. And the settings that govern it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update
from twilio_fake import open_gateway

from backend.model_base import utcnow
from backend.models_recordings import Recording, RecordingLeg, RecordingStatus
from voice.config import ConfigError, VoiceConfig
from voice.playback import Voice
from voice.recording_store import RecordingStore


class Silent:
    def stream(self, text: str) -> Iterator[np.ndarray]:
        return iter([np.zeros(160, dtype=np.int16)])


def recorded(store: RecordingStore, call_sid: str) -> tuple[int, Path]:
    relative = store.new_path(RecordingLeg.BOT, call_sid)
    path = store.absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF audio of the call")
    return store.add_bot_leg(call_sid, "voice:13912340001", relative, 3.0, [{"who": "bot", "start": 0, "end": 1}]), path


def test_expired_audio_is_deleted_and_its_row_kept_marked_deleted(store):
    old, old_file = recorded(store, "CA-old")
    new, new_file = recorded(store, "CA-new")
    with store.sessions.begin() as s:
        s.execute(update(Recording).where(Recording.id == old).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert store.delete_expired() == [old]
    assert not old_file.exists() and new_file.exists()
    row = store.get(old)
    assert row is not None and row.status == RecordingStatus.DELETED and row.deleted_at is not None
    assert row.call_sid == "CA-old" and row.transcript and row.path  # the record of the call stays
    assert store.delete_expired() == []  # once
    kept = store.get(new)
    assert kept is not None and kept.status == RecordingStatus.TRANSCRIBED
    assert kept.expires_at - kept.created_at == dt.timedelta(days=180)
    in_181_days = utcnow() + dt.timedelta(days=181)
    assert store.delete_expired(in_181_days) == [new] and not new_file.exists()


def test_the_gateway_sweeps_expired_recordings_while_it_runs(cis, store):
    old, old_file = recorded(store, "CA-sweep")
    with store.sessions.begin() as s:
        s.execute(update(Recording).where(Recording.id == old).values(expires_at=utcnow() - dt.timedelta(days=1)))

    async def scenario() -> None:
        async with open_gateway(cis, "http://127.0.0.1:9", Voice(Silent()), recordings=store):
            for _ in range(100):
                if not old_file.exists():
                    break
                await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(scenario(), 60))
    row = store.get(old)
    assert not old_file.exists() and row is not None and row.status == RecordingStatus.DELETED


def test_retention_and_recording_settings_from_the_environment(tmp_path):
    base = {"TWILIO_AUTH_TOKEN": "t" * 32, "P95598_DB_URL": "sqlite://"}
    config = VoiceConfig.from_env(base)
    assert config.recording_days == 180 and config.recordings_dir and config.recordings_dir.endswith("recordings")
    config = VoiceConfig.from_env({**base, "P95598_RECORDING_DAYS": "30", "P95598_RECORDINGS_DIR": str(tmp_path)})
    assert (config.recording_days, config.recordings_dir) == (30, str(tmp_path))
    assert VoiceConfig.from_env({**base, "P95598_RECORDINGS_DIR": ""}).recordings_dir is None  # not recorded
    for bad in ("0", "-5", "half a year"):
        with pytest.raises(ConfigError, match="P95598_RECORDING_DAYS"):
            VoiceConfig.from_env({**base, "P95598_RECORDING_DAYS": bad})
    with pytest.raises(ConfigError, match="TWILIO_API_BASE"):
        VoiceConfig.from_env({**base, "TWILIO_API_BASE": "ftp://api"})

"""Playing call recordings in the console: supervisors and quality staff only, every attempt in the access log,
a segment by seconds, and clear refusals for deleted, missing and unknown recordings and bad ranges."""

from __future__ import annotations

import datetime as dt
import io
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from sqlalchemy import select

from backend.db import make_engine, make_sessionmaker, open_database
from backend.models_recordings import RecordingAccess
from tests.console.console_app import CSRF_INPUT, PASSWORD, running_console
from voice.recording_store import RecordingStore

RATE = 8000
SECONDS = 6


def login(base: str, username: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/console/login", timeout=10).text
    csrf = CSRF_INPUT.search(page)
    assert csrf is not None
    form = {"username": username, "password": PASSWORD, "csrf": csrf.group(1)}
    r = http.post(f"{base}/console/login", data=form, headers={"Origin": base}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return http


def call_wav(path: Path) -> np.ndarray:
    """Six seconds of stereo: each sample says where it is (left n, right -n, wrapping), so a cut can be checked."""
    n = np.arange(RATE * SECONDS) % 30000
    frames = np.stack([n, -n], axis=1).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames.tobytes())
    return frames


@pytest.fixture
def setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, RecordingStore]]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine, _ = open_database(url)
    engine.dispose()
    monkeypatch.setenv("P95598_RECORDINGS_DIR", str(tmp_path / "recordings"))
    engine = make_engine(url)
    yield url, RecordingStore(make_sessionmaker(engine), tmp_path / "recordings", days=180)
    engine.dispose()


AGENTS = (("q201", "质检小周", "quality"), ("s201", "值班长", "supervisor"), ("a201", "坐席小李", "agent"))


def test_only_supervisors_and_quality_staff_play_recordings_and_every_attempt_is_logged(setting):
    url, store = setting
    frames = call_wav(store.absolute("bot/2026/12/04/CA1.wav"))
    played = store.add_bot_leg("CA1", "voice:13912340001", "bot/2026/12/04/CA1.wav", SECONDS, [])
    with running_console(url, AGENTS) as console:
        quality, supervisor, agent = (login(console.url, name) for name, _, _ in AGENTS)
        whole = quality.get(f"{console.url}/console/recordings/{played}/audio", timeout=10)
        assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/wav"
        assert whole.headers["Cache-Control"] == "no-store"
        assert whole.content == store.absolute("bot/2026/12/04/CA1.wav").read_bytes()
        cut = supervisor.get(f"{console.url}/console/recordings/{played}/audio?start=1.5&end=2.25", timeout=10)
        assert cut.status_code == 200
        with wave.open(io.BytesIO(cut.content)) as w:
            assert (w.getnchannels(), w.getframerate()) == (2, RATE)
            got = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
        assert np.array_equal(got, frames[int(1.5 * RATE) : int(2.25 * RATE)])
        refused = agent.get(f"{console.url}/console/recordings/{played}/audio", timeout=10)
        assert refused.status_code == 403 and "班长和质检员" in refused.text
        anonymous = requests.get(f"{console.url}/console/recordings/{played}/audio", allow_redirects=False, timeout=10)
        assert anonymous.status_code in (302, 401)  # not logged in: to the login page, nothing logged
    with store.sessions() as s:
        log = [(a.recording_id, a.user, a.role, a.allowed) for a in s.scalars(select(RecordingAccess))]
    assert log == [
        (played, "q201", "quality", True),
        (played, "s201", "supervisor", True),
        (played, "a201", "agent", False),
    ]


def test_deleted_missing_unknown_recordings_and_bad_ranges_get_clear_answers(setting):
    url, store = setting
    call_wav(store.absolute("bot/old.wav"))
    old = store.add_bot_leg("CA2", None, "bot/old.wav", SECONDS, [])
    gone = store.add_bot_leg("CA3", None, "bot/never-written.wav", SECONDS, [])
    assert store.delete_expired(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=181)) == [old, gone]
    call_wav(store.absolute("bot/kept.wav"))
    kept = store.add_bot_leg("CA4", None, "bot/kept.wav", SECONDS, [])
    lost = store.add_bot_leg("CA5", None, "bot/lost.wav", SECONDS, [])
    with running_console(url, AGENTS) as console:
        quality = login(console.url, "q201")

        def get(path: str) -> requests.Response:
            return quality.get(f"{console.url}/console/recordings/{path}", timeout=10)

        deleted = get(f"{old}/audio")
        assert deleted.status_code == 410 and "保存期限" in deleted.text
        assert get(f"{lost}/audio").status_code == 404 and "文件不存在" in get(f"{lost}/audio").text
        unknown = get("999999/audio")
        assert unknown.status_code == 404 and "没有找到" in unknown.text
        assert get("abc/audio").status_code == 404
        for bad in ("start=2&end=1", "start=-1", "start=abc", "end=nan", "start=1&end=1"):
            r = get(f"{kept}/audio?{bad}")
            assert r.status_code == 400 and "秒数" in r.text, bad
        tail = get(f"{kept}/audio?start=5.5&end=600")  # past the end: up to the end
        with wave.open(io.BytesIO(tail.content)) as w:
            assert w.getnframes() == RATE // 2
    with store.sessions() as s:
        assert s.scalar(select(RecordingAccess).where(RecordingAccess.recording_id == 999999)) is not None

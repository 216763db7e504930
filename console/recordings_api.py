"""Playing call recordings in the console (智能质检): only supervisors and quality staff, every attempt logged.

- GET /console/recordings/{id}/audio[?start=&end=]   the recording as a WAV (stereo 8 kHz: left the caller,
                                                      right the bot or the agent), or the segment between `start`
                                                      and `end` seconds

Each attempt, allowed or refused, is a `RecordingAccess` row (who, role, when, allowed). An agent gets 403; an
unknown recording or one whose file is gone 404; one deleted at the end of its retention 410; a bad range 400.
The audio is never cached by the browser. The files are the voice gateway's, on a volume both processes see:
P95598_RECORDINGS_DIR (default var/recordings), the same setting the gateway reads.
"""

from __future__ import annotations

import asyncio
import io
import math
import wave
from pathlib import Path

from aiohttp import web

from backend.contact_centre.kinds import AgentRole
from backend.models_recordings import Recording, RecordingAccess, RecordingStatus
from backend.settings import DEFAULT_RECORDINGS_DIR, recordings_dir
from console.auth import agent_of
from console.config import CONTACT
from console.errors import refuse

RECORDINGS_DIR = web.AppKey("recordings_dir", Path)
MAY_PLAY = (AgentRole.SUPERVISOR, AgentRole.QUALITY)
NOT_ALLOWED = "只有班长和质检员可以播放录音。"
UNKNOWN = "没有找到这段录音。"
FILE_GONE = "这段录音的文件不存在，无法播放。"
DELETED = "这段录音已超过保存期限，已经删除。"
BAD_RANGE = "请用秒数给出开始和结束时间，开始要早于结束。"
NO_CACHE = {"Cache-Control": "no-store", "Content-Disposition": "inline"}


def add_routes(app: web.Application, directory: Path | None = None) -> None:
    app[RECORDINGS_DIR] = Path(directory) if directory else (recordings_dir() or DEFAULT_RECORDINGS_DIR)
    app.router.add_get(r"/console/recordings/{id:\d{1,12}}/audio", play)


async def play(request: web.Request) -> web.StreamResponse:
    agent = agent_of(request)
    recording_id = int(request.match_info["id"])
    allowed = agent.role in MAY_PLAY
    sessions = request.app[CONTACT].sessions

    def look_up_and_log() -> Recording | None:
        with sessions.begin() as s:
            s.add(
                RecordingAccess(recording_id=recording_id, user=agent.username[:16], role=agent.role, allowed=allowed)
            )
            return s.get(Recording, recording_id) if allowed else None

    row = await asyncio.to_thread(look_up_and_log)
    if not allowed:
        raise refuse(403, NOT_ALLOWED)
    if row is None:
        raise refuse(404, UNKNOWN)
    if row.status == RecordingStatus.DELETED:
        raise web.HTTPGone(text=DELETED)
    path = request.app[RECORDINGS_DIR] / row.path if row.path else None
    if path is None or not path.is_file():
        raise refuse(404, FILE_GONE if row.reason is None else f"{FILE_GONE}（{row.reason}）")
    start, end = _range(request)
    if start is None and end is None:
        return web.FileResponse(path, headers={**NO_CACHE, "Content-Type": "audio/wav"})
    try:
        body = await asyncio.to_thread(segment, path, start or 0.0, end)
    except (wave.Error, EOFError):
        raise refuse(404, f"{FILE_GONE}（文件已损坏）") from None
    return web.Response(body=body, content_type="audio/wav", headers=NO_CACHE)


def _range(request: web.Request) -> tuple[float | None, float | None]:
    values: list[float | None] = []
    for name in ("start", "end"):
        text = request.query.get(name)
        if text is None or text == "":
            values.append(None)
            continue
        try:
            value = float(text)
        except ValueError:
            raise refuse(400, BAD_RANGE) from None
        if not math.isfinite(value) or value < 0:
            raise refuse(400, BAD_RANGE)
        values.append(value)
    start, end = values
    if start is not None and end is not None and end <= start:
        raise refuse(400, BAD_RANGE)
    return start, end


def segment(path: Path, start: float, end: float | None) -> bytes:
    """The WAV between `start` and `end` seconds (to the end of the file when `end` is None or past it)."""
    with wave.open(str(path), "rb") as w:
        rate, frames = w.getframerate(), w.getnframes()
        first = min(frames, int(start * rate))
        last = frames if end is None else min(frames, int(math.ceil(end * rate)))
        w.setpos(first)
        data = w.readframes(max(0, last - first))
        out = io.BytesIO()
        with wave.open(out, "wb") as cut:
            cut.setnchannels(w.getnchannels())
            cut.setsampwidth(w.getsampwidth())
            cut.setframerate(rate)
            cut.writeframes(data)
    return out.getvalue()

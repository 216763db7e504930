"""The agent leg of a call: Twilio records it (`<Start><Recording channels="dual">` before `<Enqueue>`, see
voice/twiml.py) and tells us when the file is ready.

    POST /voice/recording-status   Twilio's recordingStatusCallback (signed like every webhook: 403 otherwise,
                                   and nothing is stored)

On "completed" the row is claimed by RecordingSid (unique: a retried callback stores once) and the answer goes
back at once; off the request path the WAV is fetched from Twilio's REST API (the configured API base, basic
auth with the account SID and auth token; the host in the callback's RecordingUrl is never followed), written
under the recordings directory, and transcribed by Vosk per channel with word times. A recording Twilio could
not make ("absent", "failed"), a 404, an empty, corrupt or truncated file: the row is marked not inspectable
with the reason. Nothing here can fail the call or the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from backend.models_recordings import RecordingLeg
from voice.recording_store import RecordingStore
from voice.transcribe import Transcriber, UnreadableAudio, read_wav

log = logging.getLogger(__name__)
RECORDING_SID = re.compile(r"^RE[0-9A-Za-z]{8,62}$")
ACCOUNT_SID = re.compile(r"^AC[0-9A-Za-z]{1,62}$")
MAX_BYTES = 512 * 1024 * 1024  # ~4.6 h of 8 kHz 16-bit stereo: anything larger is not a call recording
FETCH_ATTEMPTS = 3
FETCH_BACKOFF = 1.0  # seconds, doubled at each attempt (Twilio may answer 404 for a moment after "completed")
FAILED = {"absent": "Twilio 没有生成录音（absent）", "failed": "Twilio 录音失败（failed）"}
NO_MODEL = "已保存录音；没有配置语音识别模型，未转写"

SignedForm = Callable[[web.Request], Awaitable[dict[str, str] | None]]


class FetchError(Exception):
    """The media could not be fetched; permanent (404) or after the last attempt. The message is the reason."""


class AgentLegRecordings:
    def __init__(
        self,
        store: RecordingStore,
        http: aiohttp.ClientSession,
        *,
        signed_form: SignedForm,
        api_base: str,
        account_sid: str,
        auth_token: str,
        transcriber: Transcriber | None,
        conversation_of: Callable[[str], str | None],
        fetch_backoff: float | None = None,
    ):
        self.store, self._http, self._signed_form = store, http, signed_form
        self._api_base, self._account_sid, self._auth_token = api_base.rstrip("/"), account_sid, auth_token
        self.transcriber = transcriber
        self._conversation_of = conversation_of
        self._backoff = FETCH_BACKOFF if fetch_backoff is None else fetch_backoff
        self.tasks: set[asyncio.Task[None]] = set()
        # one transcription at a time: it takes ~0.4 s of CPU per second of call, and live calls' ASR comes first
        self._transcribing = asyncio.Semaphore(1)

    async def status(self, request: web.Request) -> web.Response:
        form = await self._signed_form(request)
        if form is None:
            raise web.HTTPForbidden(text="invalid signature")
        sid, call_sid = form.get("RecordingSid", ""), form.get("CallSid", "")
        if not RECORDING_SID.match(sid) or not call_sid:
            raise web.HTTPBadRequest(text="RecordingSid or CallSid missing or malformed")
        state = form.get("RecordingStatus", "")
        if state != "completed" and state not in FAILED:
            return web.Response(status=204)  # in-progress and the like: the file is not there yet
        conversation = await asyncio.to_thread(self._conversation_of, call_sid)
        recording_id = await asyncio.to_thread(self.store.claim_agent_leg, sid, call_sid, conversation)
        if recording_id is None:
            log.info("recording %s already stored: callback retry ignored", sid)
            return web.Response(status=204)
        if state in FAILED:
            await asyncio.to_thread(self.store.not_inspectable, recording_id, FAILED[state])
            return web.Response(status=204)
        self._spawn(recording_id, sid, self._account_sid or form.get("AccountSid", ""))
        return web.Response(status=204)

    def resume(self, unfetched: list[tuple[int, str]]) -> None:
        """Fetch the recordings announced before the gateway last stopped (needs TWILIO_ACCOUNT_SID: the
        callback's AccountSid is not kept)."""
        if unfetched and not self._account_sid:
            log.warning("%d announced recordings not fetched: set TWILIO_ACCOUNT_SID to fetch them", len(unfetched))
            return
        for recording_id, sid in unfetched:
            self._spawn(recording_id, sid, self._account_sid)

    def _spawn(self, recording_id: int, sid: str, account: str) -> None:
        task = asyncio.create_task(self.keep(recording_id, sid, account), name=f"recording-{sid}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def keep(self, recording_id: int, sid: str, account: str) -> None:
        """Fetch, store and transcribe one recording; whatever goes wrong ends as a reason on its row."""
        relative = self.store.new_path(RecordingLeg.AGENT, sid)
        try:
            path = self.store.absolute(relative)
            await self._fetch(sid, account, path)
            audio = await asyncio.to_thread(read_wav, path)
            await asyncio.to_thread(self.store.stored, recording_id, relative, audio.seconds, len(audio.channels))
            if self.transcriber is None:
                await asyncio.to_thread(self.store.note, recording_id, NO_MODEL)
                return
            async with self._transcribing:
                transcript = await asyncio.to_thread(self.transcriber.transcribe, path)
            await asyncio.to_thread(self.store.transcribed, recording_id, transcript)
            log.info("recording %s stored and transcribed (%d lines)", sid, len(transcript))
        except (FetchError, UnreadableAudio) as e:
            log.warning("recording %s not inspectable: %s", sid, e)
            await asyncio.to_thread(self.store.not_inspectable, recording_id, str(e))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a bad recording must not take the gateway down; it is marked
            log.exception("recording %s failed", sid)
            await asyncio.to_thread(self.store.not_inspectable, recording_id, f"处理录音出错：{type(e).__name__}")

    def media_url(self, sid: str, account: str) -> str:
        if not ACCOUNT_SID.match(account):
            raise FetchError("无法取回录音：缺少 Twilio 账号 SID")
        return f"{self._api_base}/2010-04-01/Accounts/{account}/Recordings/{sid}.wav"

    async def _fetch(self, sid: str, account: str, path: Path) -> None:
        url = self.media_url(sid, account)
        auth = aiohttp.BasicAuth(account, self._auth_token)
        last = ""
        for attempt in range(FETCH_ATTEMPTS):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                async with self._http.get(url, auth=auth, timeout=aiohttp.ClientTimeout(total=300)) as r:
                    if r.status == 404 and attempt == FETCH_ATTEMPTS - 1:
                        raise FetchError("录音不存在（Twilio 返回 404）")
                    if r.status >= 400:
                        last = f"Twilio 返回 {r.status}"
                        if r.status in (401, 403):
                            raise FetchError(f"无法取回录音：{last}，请检查账号和令牌")
                        continue
                    await self._save(r, path)
                    return
            except (aiohttp.ClientError, TimeoutError) as e:
                last = f"连接失败（{type(e).__name__}）"
        raise FetchError(f"无法取回录音：{last}")

    @staticmethod
    async def _save(response: aiohttp.ClientResponse, path: Path) -> None:
        """Streamed to a temporary file, renamed when complete: a half-written file is never taken for a recording."""
        partial = path.with_suffix(".part")
        await asyncio.to_thread(partial.parent.mkdir, parents=True, exist_ok=True)
        size = 0
        try:
            with open(partial, "wb") as out:  # noqa: ASYNC230 - chunks of 64 KB; a thread per chunk costs more
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise FetchError("录音文件过大，不像一通电话的录音")
                    out.write(chunk)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

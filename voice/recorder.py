"""The bot leg of a call kept on disk: both directions of the Media Stream in one stereo 8 kHz WAV (left the
caller, right the bot), written as the call goes, never held whole in memory.

The inbound stream is the clock: Twilio sends a 20 ms frame every 20 ms, silence included, so after n inbound
frames the call is n x 20 ms old. Outbound audio is placed where the caller heard it: at the current call time,
or right after the audio Twilio still has buffered; a `clear` (barge-in) drops what was buffered beyond now.
Everything before the current call time is final and is written out; only the buffered outbound audio (about
the speaker's lead, 100 ms) waits in memory.

The recorder also notes where each prompt played (`prompts`: start, end, and the text when its mark names it)
and the stretches of the caller's speech (`speech`: start, end), so the call's transcript can carry times without a
second pass of the ASR (voice/recording_transcript.py).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import logging
import time
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from voice.audio import SAMPLE_RATE, rms_dbfs, ulaw_to_pcm16

log = logging.getLogger(__name__)
SPEECH_DBFS = -40.0  # a 20 ms inbound frame louder than this is the caller speaking
SPEECH_FRAMES = 3  # this many loud frames in a row start a stretch of speech
QUIET_FRAMES = 10  # and this many quiet ones end it (200 ms)
FLUSH_BYTES = 64 * 1024
CLOCK_FRAMES = 5  # the unix time of every 5th inbound frame (100 ms) is kept, to place the record's notes


@dataclass
class PlayedPrompt:
    start: float  # seconds from the start of the recording
    end: float
    text: str | None  # from the prompt's mark; None when it was cut (barge-in) before its mark
    cut: bool = False


class CallRecorder:
    """Feed it the inbound frames (`inbound`) and every message the gateway sends to Twilio (`outbound`);
    `close()` finishes the WAV and returns its duration in seconds."""

    def __init__(self, path: Path, prompt_text: Any = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close(), the call's end
        self._wav = wave.open(self._file, "wb")  # noqa: SIM115 - the same
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._prompt_text = prompt_text  # mark name -> prompt text (the speaker's marks), or None
        self._now = 0  # samples of inbound audio received: the call's clock
        self._written = 0  # samples written to the file (both channels)
        self._inbound = bytearray()  # int16 caller samples not yet written
        # bot samples from `_written` on (zeros where silent)
        self._outbound: npt.NDArray[np.int16] = np.zeros(0, dtype=np.int16)
        self._out_end = 0  # sample where the buffered outbound audio ends
        self._segment_start: int | None = None  # first sample of the prompt being played
        self._pending = 0
        self._loud = self._quiet = 0
        self.prompts: list[PlayedPrompt] = []
        self.speech: list[tuple[float, float]] = []  # (start, end) seconds; end grows while the caller speaks
        self._frames = 0
        self._walls = array("d")  # unix time inbound frame k * CLOCK_FRAMES was taken in
        self.closed = False

    @property
    def seconds(self) -> float:
        return self._now / SAMPLE_RATE

    def inbound(self, ulaw: bytes) -> None:
        if self.closed or not ulaw:
            return
        if self._frames % CLOCK_FRAMES == 0:
            self._walls.append(time.time())
        self._frames += 1
        pcm = ulaw_to_pcm16(ulaw)
        self._detect_speech(pcm)
        self._inbound += pcm.tobytes()
        self._now += len(pcm)
        self._write_until(self._now)

    def call_time(self, wall: float) -> float:
        """Seconds into the recording at unix time `wall` (a note in the call's record), by the inbound clock:
        when the gateway falls behind, frames are taken in bursts and wall time runs ahead of the call's."""
        step = CLOCK_FRAMES * 0.02
        i = bisect.bisect_right(self._walls, wall) - 1
        if i < 0:
            return 0.0
        return round(i * step + min(max(0.0, wall - self._walls[i]), step), 2)

    def _detect_speech(self, pcm: npt.NDArray[np.int16]) -> None:
        end = (self._now + len(pcm)) / SAMPLE_RATE
        if rms_dbfs(pcm) > SPEECH_DBFS:
            self._loud, self._quiet = self._loud + 1, 0
            if self._loud == SPEECH_FRAMES:
                start = round((self._now - (SPEECH_FRAMES - 1) * len(pcm)) / SAMPLE_RATE, 2)
                self.speech.append((start, round(end, 2)))
            elif self._loud > SPEECH_FRAMES:
                self.speech[-1] = (self.speech[-1][0], round(end, 2))
        else:
            self._quiet += 1
            if self._quiet >= QUIET_FRAMES:
                self._loud = 0

    def outbound(self, message: str) -> None:
        """A message the gateway sent on the Media Stream: media is placed on the timeline, `clear` drops the
        buffered audio, a mark closes the prompt it follows."""
        if self.closed:
            return
        try:
            msg = json.loads(message)
            kind = msg.get("event")
            if kind == "media":
                self._play(ulaw_to_pcm16(base64.b64decode(msg["media"]["payload"], validate=True)))
            elif kind == "clear":
                self._clear()
            elif kind == "mark":
                name = str(msg.get("mark", {}).get("name", ""))
                text = self._prompt_text(name) if self._prompt_text is not None else None
                self._close_prompt(text, cut=False)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
            log.warning("outbound message not recorded: %s", e)

    def _play(self, pcm: npt.NDArray[np.int16]) -> None:
        at = max(self._now, self._out_end)
        if self._segment_start is None:
            self._segment_start = at
        end = at + len(pcm)
        offset = at - self._written
        if end - self._written > len(self._outbound):
            grown = np.zeros(end - self._written, dtype=np.int16)
            grown[: len(self._outbound)] = self._outbound
            self._outbound = grown
        self._outbound[offset : offset + len(pcm)] = pcm
        self._out_end = end

    def _clear(self) -> None:
        if self._out_end > self._now:
            self._outbound[self._now - self._written :] = 0
            self._out_end = self._now
        if self._segment_start is not None:
            self._close_prompt(None, cut=True)

    def _close_prompt(self, text: str | None, *, cut: bool) -> None:
        if self._segment_start is None:
            return
        start, end = self._segment_start / SAMPLE_RATE, max(self._segment_start, self._out_end) / SAMPLE_RATE
        self.prompts.append(PlayedPrompt(round(start, 2), round(end, 2), text, cut))
        self._segment_start = None

    def _write_until(self, sample: int) -> None:
        n = sample - self._written
        if n <= 0:
            return
        left = np.frombuffer(bytes(self._inbound[: 2 * n]), dtype=np.int16)
        left = np.concatenate([left, np.zeros(n - len(left), dtype=np.int16)]) if len(left) < n else left
        del self._inbound[: 2 * n]
        right = self._outbound[:n]
        right = np.concatenate([right, np.zeros(n - len(right), dtype=np.int16)]) if len(right) < n else right
        self._outbound = self._outbound[n:]
        frames = np.empty(2 * n, dtype="<i2")
        frames[0::2], frames[1::2] = left, right
        self._wav.writeframesraw(frames.tobytes())
        self._written = sample
        self._pending += 4 * n
        if self._pending >= FLUSH_BYTES:
            self._file.flush()
            self._pending = 0

    def close(self) -> float:
        """Write out the bot's last buffered audio (the goodbye still playing) and finish the file."""
        if self.closed:
            return self._written / SAMPLE_RATE
        self._close_prompt(None, cut=False)
        self._write_until(max(self._now, self._out_end))
        self.closed = True
        self._wav.close()  # patches the header's sizes
        self._file.close()
        return self._written / SAMPLE_RATE

    def discard(self) -> None:
        """The call is not recorded after all (no database to note it in): the file goes too."""
        if not self.closed:
            self.closed = True
            self._wav.close()
            self._file.close()
        self.path.unlink(missing_ok=True)

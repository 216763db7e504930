"""The timed transcript of a call's bot leg from the gateway's own record: what the ASR recognised (or the keys
pressed) and what the bot said, in seconds from the start of the recording. No second pass of the ASR.

Caller lines: the record notes a final when it was recognised, which is the end of the utterance; its start is
where the caller's run of speech before it began (stretches of speech less than `PAUSE` apart, after the
previous caller line; else the end itself: a key press, or speech too quiet to see). Bot lines:
each prompt's start and end are where its audio played (the recorder's `prompts`); a prompt cut by the caller
keeps the text the bot was saying, the next noted bot line after the one matched before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from voice.recorder import PlayedPrompt

Line = dict[str, Any]
PAUSE = 1.0  # seconds: stretches of speech closer than this are one utterance


def caller_lines(
    events: Sequence[tuple[str, str, float]], call_time: Callable[[float], float], speech: Sequence[tuple[float, float]]
) -> list[Line]:
    """`events` are the call record's (who, text, unix time); `call_time` turns a unix time into seconds of the
    recording (the recorder's clock); `speech` the recorder's stretches of the caller's speech."""
    lines: list[Line] = []
    previous_end = 0.0
    for who, text, at in events:
        if who != "caller":
            continue
        end = call_time(at)
        start = end if text.startswith("[") else utterance_start(speech, previous_end, end)  # "[按键 3]": a key
        lines.append({"who": "caller", "start": start, "end": end, "text": text})
        previous_end = end
    return lines


def utterance_start(speech: Sequence[tuple[float, float]], after: float, end: float) -> float:
    heard = [stretch for stretch in speech if after <= stretch[0] <= end]
    if not heard:
        return end
    start = heard[-1][0]
    for earlier, later in zip(reversed(heard[:-1]), reversed(heard[1:])):
        if later[0] - earlier[1] >= PAUSE:
            break
        start = earlier[0]
    return start


def bot_lines(events: Sequence[tuple[str, str, float]], prompts: Sequence[PlayedPrompt]) -> list[Line]:
    said = [text for who, text, _ in events if who == "bot"]
    lines: list[Line] = []
    next_said = 0
    for prompt in prompts:
        text = prompt.text
        if text is not None and text in said[next_said:]:
            next_said = said.index(text, next_said) + 1
        elif text is None and next_said < len(said):
            text, next_said = said[next_said], next_said + 1
        if text:
            line: Line = {"who": "bot", "start": prompt.start, "end": prompt.end, "text": text}
            if prompt.cut:
                line["cut"] = True  # the caller spoke over it: only the start was heard
            lines.append(line)
    return lines


def bot_leg_transcript(
    events: Sequence[tuple[str, str, float]],
    call_time: Callable[[float], float],
    speech: Sequence[tuple[float, float]],
    prompts: Sequence[PlayedPrompt],
) -> list[Line]:
    lines = caller_lines(events, call_time, speech) + bot_lines(events, prompts)
    return sorted(lines, key=lambda line: (line["start"], line["end"]))

"""python -m voice.testing.simulate {outage,bill,talk}: a whole phone call to the running product, Twilio played
locally.

    python -m voice.testing.simulate outage                 # says 我家停电了, the address, 没有 … until a work order
    python -m voice.testing.simulate bill --keys            # keys only: 2, 户号 #, last four #, month #
    python -m voice.testing.simulate outage --wav call.wav  # both directions of the call, 8 kHz, for listening
    python -m voice.testing.simulate talk --caller 13912340001 < lines   # you are the caller (below)

`talk` is an unscripted call: each line read from standard input is said after the bot has finished (a line
of keys such as `1` or `3201000001#` is pressed instead), and what the bot says is printed; the call hangs up
at the end of the input. Standard input may be a named pipe, to answer turn by turn:
`mkfifo in; (sleep infinity > in &); python -m voice.testing.simulate talk --caller … < in > out &`, then
`echo 我家停电了 > in` and read `out`.

The gateway runs in-process (voice.gateway.create_app on a free port, signed with a token made for the
run) in front of the Rasa of `make run` (--rasa-url) and its back-end database (P95598_DB_URL, default
var/backend.db); Twilio's side (signed webhooks, the Media Streams websocket) is voice.testing.fake_twilio.
The caller's lines are synthesised (a male Kokoro voice, or espeak-ng) and streamed as μ-law audio; with
`--asr scripted` (the default: no Mandarin Vosk model ships here) their text is handed over at the ASR
boundary at the end of each line, with `--asr vosk` the real recogniser (P95598_VOSK_MODEL, Mandarin)
hears the audio. The bot's voice is the gateway's own TTS. Exit code 0 when the call reached its goal and
the back end confirms it (the work order exists / the amount read is the bill's), 1 if not, 2 on setup.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import re
import statistics
import sys
from pathlib import Path

from voice.testing.scenarios import SCENARIOS, Scenario, answer_for

log = logging.getLogger("voice.testing.simulate")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m voice.testing.simulate", description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", choices=[*sorted(SCENARIOS), "talk"])
    p.add_argument("--keys", action="store_true", help="answer with keys wherever a key answer exists")
    p.add_argument("--caller", help="caller ID (default: per scenario; '' for a withheld number)")
    p.add_argument(
        "--rasa-url",
        default=os.environ.get("P95598_RASA_URL") or f"http://127.0.0.1:{os.environ.get('P95598_RASA_PORT', '5005')}",
    )
    var = Path(os.environ.get("P95598_VAR", Path(__file__).resolve().parents[2] / "var"))  # as `make run`
    p.add_argument("--db-url", default=os.environ.get("P95598_DB_URL") or f"sqlite:///{var / 'backend.db'}")
    p.add_argument("--asr", choices=["scripted", "vosk"], default="scripted")
    p.add_argument("--wav", help="write the whole call (both directions, 8 kHz mono) to this file")
    p.add_argument("--barge-in", action="store_true", help="answer as soon as the bot starts (faster)")
    p.add_argument("--caller-voice", default="zm_yunjian", help="Kokoro voice of the caller")
    p.add_argument("--month", type=int, help="bill: the month to ask for (default: last month)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return asyncio.run(talk(args) if args.scenario == "talk" else simulate(args))
    except SetupError as e:
        print(f"simulate: {e}", file=sys.stderr)
        return 2


class SetupError(RuntimeError):
    pass


def out(line: str = "") -> None:
    print(line, flush=True)


async def simulate(args: argparse.Namespace) -> int:
    scenario: Scenario = SCENARIOS[args.scenario]
    caller_id = scenario.caller if args.caller is None else args.caller
    month = args.month or (dt.date.today().replace(day=1) - dt.timedelta(days=1)).month
    await _check_rasa(args.rasa_url)
    cis = _open_backend(args.db_url)
    bot_voice, caller_voice = await asyncio.gather(
        asyncio.to_thread(_bot_voice), asyncio.to_thread(_caller_voice, args.caller_voice)
    )
    factory = await asyncio.to_thread(_vosk_factory) if args.asr == "vosk" else None

    from voice.testing.caller import SimCaller, call_audio, write_wav
    from voice.testing.fake_twilio import open_gateway

    out(
        f"{scenario.title} — caller {caller_id or '(withheld)'}, {'keys' if args.keys else 'speech'}, "
        f"ASR {args.asr}, bot TTS {bot_voice.engine.name}, Rasa {args.rasa_url}"
    )
    async with open_gateway(
        cis, args.rasa_url, bot_voice, recognizer_factory=factory, no_input_seconds=8.0, inter_digit_seconds=4.0
    ) as h:
        async with h.dial(caller_id, record_audio=True) as tw:
            await tw.wait_for(lambda: h.session(tw.call_sid) is not None, 30)
            session = h.session(tw.call_sid)
            caller = SimCaller(
                tw,
                session,
                voice=caller_voice,
                patient=not args.barge_in,
                inject=h.recognizers[-1].inject if args.asr == "scripted" else None,
            )
            started = asyncio.get_running_loop().time()
            said = await caller.greeting()
            out(f"  bot    : {said}")
            result, opened = None, False
            for _ in range(12):
                result = scenario.done.search(said)
                if result:
                    break
                step = answer_for(scenario, said, opened, keys=args.keys, caller=caller_id, month=month)
                if step is None:
                    out(f"  (the caller has no answer to: {said})")
                    break
                opened = True
                if args.barge_in:
                    await asyncio.sleep(0.3)
                at = asyncio.get_running_loop().time() - started  # when the caller starts
                timing = await (
                    caller.press(step.keys) if step.keys else caller.say(step.say, timeout=30 if factory else 120)
                )
                heard = f" · recognised 「{timing.recognised}」" if args.asr == "vosk" else ""
                out(f"  caller : {timing.caller}   [{timing.how} {timing.input_s:.1f}s, from {at:.1f}s{heard}]")
                out(f"  bot    : {timing.bot}")
                out(
                    f"           rasa {_ms(timing.rasa_ms)} · first audio {_ms(timing.first_audio_ms)} after the "
                    f"input ended (gateway) · heard after {_ms(timing.heard_ms)} (caller)"
                )
                said = timing.bot
            if result and not args.barge_in:
                await caller.until_quiet()
    verdict, ok = scenario.check(result, cis) if result else ("the bot never gave the expected answer", False)
    out(("OK   " if ok else "FAIL ") + verdict)
    _summary(caller.timings)
    if args.wav:
        pcm = call_audio(tw)
        write_wav(args.wav, pcm)
        out(f"call audio: {args.wav} ({len(pcm) / 8000:.1f} s)")
    return 0 if ok else 1


KEYS = re.compile(r"[0-9*#]+")


async def talk(args: argparse.Namespace) -> int:
    """An unscripted call: the caller's lines come from standard input, one per turn."""
    caller_id = "+8613912340001" if args.caller is None else args.caller
    await _check_rasa(args.rasa_url)
    cis = _open_backend(args.db_url)
    bot_voice, caller_voice = await asyncio.gather(
        asyncio.to_thread(_bot_voice), asyncio.to_thread(_caller_voice, args.caller_voice)
    )
    from voice.testing.caller import SimCaller
    from voice.testing.fake_twilio import open_gateway

    out(f"unscripted call — caller {caller_id or '(withheld)'}; one line per turn on standard input")
    recordings = _recordings(cis)
    async with (
        open_gateway(
            cis, args.rasa_url, bot_voice, no_input_seconds=30.0, inter_digit_seconds=4.0, recordings=recordings
        ) as h,
        h.dial(caller_id) as tw,
    ):
        await tw.wait_for(lambda: h.session(tw.call_sid) is not None, 30)
        caller = SimCaller(tw, h.session(tw.call_sid), voice=caller_voice, inject=h.recognizers[-1].inject)
        out(f"  bot    : {await caller.greeting()}")
        while line := (await asyncio.to_thread(sys.stdin.readline)).strip():
            timing = await (caller.press(line) if KEYS.fullmatch(line) else caller.say(line, timeout=120))
            out(f"  caller : {timing.caller}")
            out(f"  bot    : {timing.bot}")
    out("  (hung up)")
    return 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _summary(timings) -> None:
    first = [t.first_audio_ms for t in timings if t.first_audio_ms is not None]
    heard = [t.heard_ms for t in timings if t.heard_ms is not None]
    if first:
        out(
            f"turn latency, end of input → first bot audio: median {statistics.median(first):.0f} ms, "
            f"max {max(first):.0f} ms over {len(first)} turns (gateway)"
            + (
                f"; as the caller heard it: median {statistics.median(heard):.0f} ms, max {max(heard):.0f} ms"
                if heard
                else ""
            )
        )


async def _check_rasa(url: str) -> None:
    import aiohttp

    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{url}/", timeout=aiohttp.ClientTimeout(5)) as r,
        ):  # "/" needs no API token
            if r.status == 200:
                return
    except (aiohttp.ClientError, asyncio.TimeoutError):
        pass
    raise SetupError(f"no Rasa server at {url}: start the product with `make run` (or give --rasa-url)")


def _open_backend(db_url: str):
    from backend.cis import SqlCIS
    from backend.db import make_engine, make_sessionmaker

    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        raise SetupError(
            f"no back-end database at {db_url}: start the product with `make run` first "
            "(it seeds one), or set P95598_DB_URL / --db-url"
        )
    return SqlCIS(make_sessionmaker(make_engine(db_url)))


def _recordings(cis):
    """The product's recording store (P95598_RECORDINGS_DIR, var/recordings by default), so a simulated call is kept
    like a real one: quality staff can play it beside its inspection. None when recording is off."""
    from backend.settings import recordings_dir
    from voice.config import RECORDING_DAYS, _days
    from voice.recording_store import RecordingStore

    directory = recordings_dir()
    if directory is None:
        return None
    return RecordingStore(cis.sessions, directory, _days(os.environ.get("P95598_RECORDING_DAYS", str(RECORDING_DAYS))))


def _bot_voice():
    """The gateway's voice, its fixed prompts rendered ahead (on disk: only the first run pays)."""
    from voice import prompts
    from voice.config import VoiceConfig
    from voice.playback import Voice
    from voice.tts import PromptCache, TtsConfig, make_engine

    config = VoiceConfig.from_env(auth_token="unused")
    engine = make_engine(TtsConfig.from_env(**({"model_dir": config.tts_model} if config.tts_model else {})))
    voice = Voice(engine, PromptCache(config.prompt_cache_dir, engine), [*prompts.FIXED, *prompts.bot_responses()])
    if n := voice.warm():
        log.warning("rendered %d fixed prompts into the prompt cache", n)
    return voice


def _caller_voice(name: str):
    """A different voice for the caller (Kokoro's male zm_*), or espeak-ng; None: a tone stands for speech."""
    from voice.tts import TtsConfig, TtsUnavailable, make_engine

    try:
        return make_engine(TtsConfig.from_env(voice=name, speed=1.1))
    except TtsUnavailable as e:
        log.warning("no TTS for the caller (%s): a tone stands for their speech", e)
        return None


def _vosk_factory():
    from voice.asr import AsrConfig, CallRecognizer, kaldi_input_rate, load_model

    path = os.environ.get("P95598_VOSK_MODEL")
    if not path:
        raise SetupError("--asr vosk needs P95598_VOSK_MODEL (a Mandarin model: see voice/README.md)")
    if not any(tag in Path(path).name for tag in ("cn", "zh")):
        log.warning("P95598_VOSK_MODEL=%s does not look like a Mandarin model: expect the bot to mishear", path)
    model = load_model(path)
    config = AsrConfig(model_path=path, sample_rate=kaldi_input_rate(path))
    return lambda: CallRecognizer(model, config)


if __name__ == "__main__":
    sys.exit(main())

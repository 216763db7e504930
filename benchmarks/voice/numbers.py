"""First audio of voice replies that carry a live number: pre-rendered clips vs whole-sentence Kokoro.

    python -m benchmarks.voice.numbers                  # through scripts/with-env.sh (needs the Kokoro model)
    python -m benchmarks.voice.numbers --rounds 3 --out /tmp/numbers.json   # each reply 3 times per mode

Each reply (written as the actions write them, with the voice channel's order-number spacing) is played
through the gateway's own `Speaker` (20 ms μ-law frames paced in real time, 100 ms lead) by a fresh
`Voice`, twice in a row:

* ``kokoro``: the voice as it was before clips — cache miss, each clause synthesised by Kokoro as it
  comes; the second time, clauses without digits are remembered (the old in-memory "learned" pieces);
* ``clips``: the same voice with a `ClipLibrary` (the product's clip cache, rendered first if needed):
  numbers and lead-ins from clips, Kokoro only for parts no clip covers, synthesised ahead.

First audio = from `Speaker.play(text)` to the first media frame sent, the latency a caller hears on top
of Rasa's. Underrun = time Twilio's buffer would have run dry after the first frame (audible gaps).
Writes benchmarks/voice/results_numbers.json. About 3 minutes on 2 cores, plus ~5 minutes the first time
the clips are rendered; the load average at the start is recorded (other work on the box slows Kokoro,
not the clips).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from benchmarks.common import command_line, percentile, table, write_results
from voice import prompts
from voice.config import VoiceConfig
from voice.playback import Speaker, Voice
from voice.tts import TtsConfig, make_engine
from voice.tts.clips import LEAD_INS, ClipLibrary
from voice.tts.compose import plan

OUT = Path(__file__).resolve().parent / "results_numbers.json"
GOAL_MS = 400
REPLIES = {  # the f-strings of actions/ with live values; "G 2612 0300 123" as wording.order_number speaks it
    "repair order": (
        "已为您登记报修。工单号是G 2612 0300 123。抢修人员会尽快和您联系，"
        "城区一般四十五分钟内到达现场，请保持电话畅通。"
    ),
    "order number only": "您的工单号是 2026120300123",
    "bill": "您2026年11月的电费是128.50元，用电218.5度，已经缴清。还有别的需要帮您的吗？",
    "balance": "您的电费余额是36.20元。还有别的需要帮您的吗？",
    "arrears": (
        "系统显示还欠费256.80元。已为您登记复电，工单号G 2612 0300 456。"
        "您缴清后，系统会自动安排复电并发短信通知您，一般二十四小时内来电，不用再联系我们。还有别的需要帮您的吗？"
    ),
    "progress": (
        "12月3日的故障报修工单G 2612 0300 043，已派给城东区一网格供电服务班，由张*负责，"
        "预计今天晚上7点零3分前到达现场。还有别的需要帮您的吗？"
    ),
    "outage (free-text area first)": (
        "您所在的城东区一网格目前有故障停电，原因是线路故障抢修，预计今天下午3点20分恢复供电。"
    ),
}


async def play_once(voice: Voice, text: str, lead_ms: int = 100) -> dict:
    sent: list[float] = []
    done = asyncio.Event()

    async def send(msg: str) -> None:
        event = json.loads(msg)["event"]
        if event == "media":
            sent.append(time.monotonic())
        elif event == "mark":
            done.set()

    speaker = Speaker(send, "MZbench", voice, lead_ms=lead_ms)
    started = time.monotonic()
    speaker.play(text)
    await asyncio.wait_for(done.wait(), 120)
    await speaker.close()
    # Twilio plays frame n at first + n * 20 ms unless it ran dry; a frame arriving after that is a gap
    underrun, clock = 0.0, sent[0]
    for t in sent:
        if t > clock:
            underrun += t - clock
            clock = t
        clock += 0.02
    return {
        "first_audio_ms": round((sent[0] - started) * 1000, 1),
        "underrun_ms": round(underrun * 1000),
        "audio_s": round(len(sent) * 0.02, 2),
    }


async def measure(engine, library: ClipLibrary, rounds: int) -> list[dict]:
    rows = []
    for name, text in REPLIES.items():
        spoken = prompts.spoken_message({"text": text})
        for mode in ("kokoro", "clips"):
            for r in range(rounds):
                voice = Voice(engine, clips=library if mode == "clips" else None)
                for visit in ("first", "again"):  # a fresh gateway process, then the same reply again
                    result = await play_once(voice, spoken)
                    rows.append({"reply": name, "mode": mode, "visit": visit, "round": r, **result})
                    print(
                        f"{name:32s} {mode:6s} {visit:5s} first audio {result['first_audio_ms']:7.1f} ms  "
                        f"underrun {result['underrun_ms']:5d} ms  audio {result['audio_s']:.1f} s",
                        flush=True,
                    )
    return rows


def summarise(rows: list[dict]) -> dict:
    out = {}
    for mode in ("kokoro", "clips"):
        for visit in ("first", "again"):
            sel = [r for r in rows if r["mode"] == mode and r["visit"] == visit]
            first = [r["first_audio_ms"] for r in sel]
            out[f"{mode}/{visit}"] = {
                "first_audio_ms_p50": percentile(first, 50),
                "first_audio_ms_max": max(first),
                "underrun_ms_p50": percentile([r["underrun_ms"] for r in sel], 50),
                "underrun_ms_max": max(r["underrun_ms"] for r in sel),
                "n": len(sel),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--clips", help="clip cache folder (default: the gateway's, <prompt cache>/clips)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    load = os.getloadavg()
    engine = make_engine(TtsConfig.from_env())
    folder = Path(args.clips or Path(VoiceConfig.from_env(auth_token="unused").prompt_cache_dir) / "clips")
    library = ClipLibrary(folder, engine, phrases=[*LEAD_INS, *prompts.reply_phrases()])  # as the gateway
    t0 = time.monotonic()
    rendered = library.warm()
    warm_s = round(time.monotonic() - t0, 1)
    print(
        f"{engine.name} {engine.voice}; clips: {rendered} rendered now ({warm_s} s), "
        f"{len(library.vocabulary)} number words + {len(library.phrases)} lead-ins; load average {load[0]:.2f}"
    )
    rows = asyncio.run(measure(engine, library, args.rounds))
    summary = summarise(rows)
    per_reply = []
    for name in REPLIES:
        cells = []
        for mode in ("kokoro", "clips"):
            for visit in ("first", "again"):
                sel = [
                    r["first_audio_ms"]
                    for r in rows
                    if r["reply"] == name and r["mode"] == mode and r["visit"] == visit
                ]
                cells.append(f"{percentile(sel, 50):.0f}")
        under = max(r["underrun_ms"] for r in rows if r["reply"] == name and r["mode"] == "clips")
        per_reply.append((name, *cells, under))
    print()
    print(
        table(
            per_reply,
            ("reply (first audio ms, p50)", "kokoro", "kokoro again", "clips", "clips again", "clips underrun max ms"),
        )
    )
    print()
    print(
        table(
            [
                (k, v["first_audio_ms_p50"], v["first_audio_ms_max"], v["underrun_ms_p50"], v["underrun_ms_max"])
                for k, v in summary.items()
            ],
            ("mode/visit", "first p50 ms", "first max ms", "underrun p50", "underrun max"),
        )
    )
    covered = {
        name: [(p.text, p.number) for p in plan(prompts.spoken_message({"text": t}))] for name, t in REPLIES.items()
    }
    write_results(
        args.out,
        command_line(),
        {
            "goal_first_audio_ms": GOAL_MS,
            "load_average_at_start": [round(x, 2) for x in load],
            "engine": f"{engine.name} {engine.voice}",
            "clips_rendered_now": rendered,
            "clips_render_seconds": warm_s,
            "clip_words": len(library.vocabulary),
            "lead_ins": len(library.phrases),
            "summary": summary,
            "replies": REPLIES,
            "parts": covered,
            "runs": rows,
        },
    )
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

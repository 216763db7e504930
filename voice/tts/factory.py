"""Which TTS engine speaks: Kokoro-82M when its model folder is there, else espeak-ng."""

from __future__ import annotations

import shutil

from .engine import KokoroEngine, TtsConfig, TtsEngine, TtsUnavailable
from .espeak import EspeakEngine


def make_engine(config: TtsConfig | None = None) -> TtsEngine:
    """Kokoro when its model folder is there, else espeak-ng (robotic fallback), else ``TtsUnavailable``."""
    config = config or TtsConfig.from_env()
    folder = config.kokoro_dir()
    has_kokoro = (folder / "kokoro-v1.0.int8.onnx").is_file()
    if config.engine == "kokoro" or (config.engine == "auto" and has_kokoro):
        return KokoroEngine(
            folder, voice=config.voice, speed=config.speed, threads=config.threads, sample_rate=config.sample_rate
        )
    if shutil.which("espeak-ng"):
        return EspeakEngine(speed=config.speed, sample_rate=config.sample_rate)
    raise TtsUnavailable(
        f"no TTS engine: no Kokoro model in {folder} (build it with `python -m voice.tts.assemble "
        f"{folder}`) and no espeak-ng binary (apt-get install espeak-ng)"
    )

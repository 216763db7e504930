"""Offline Mandarin text to speech for the hotline: Kokoro-82M (espeak-ng fallback), 8 kHz int16 out.

from voice.tts import TtsConfig, make_engine, PromptCache, normalize
engine = make_engine(TtsConfig.from_env())
for chunk in engine.stream("您好，这里是国网95598。"):   # int16 mono 8 kHz, one clause at a time
    ...
async for chunk in astream(engine, reply):                # the same, off the event loop
    ...
prompts = PromptCache(cache_dir, engine); prompts.warm(FIXED_PROMPTS); prompts.get("请稍等。")
"""

from .aio import astream
from .cache import PromptCache
from .engine import KokoroEngine, TtsConfig, TtsEngine, TtsUnavailable
from .espeak import EspeakEngine
from .factory import make_engine
from .say import normalize

__all__ = [
    "EspeakEngine",
    "KokoroEngine",
    "PromptCache",
    "TtsConfig",
    "TtsEngine",
    "TtsUnavailable",
    "astream",
    "make_engine",
    "normalize",
]

"""Mandarin text → Kokoro v1.0 phonemes: misaki's zh G2P (pinyin → IPA with tone arrows) plus tone sandhi.

Kokoro-82M v1.0 was trained on misaki's *legacy* Chinese G2P (``misaki.zh.ZHG2P()``, version None): jieba
words, pypinyin TONE3, each syllable mapped to IPA with the tone as an arrow (→ ↗ ↓ ↘). That G2P gives
every syllable its citation tone. ``MandarinG2P(sandhi=True)`` keeps the same symbols but applies the
spoken tone changes first (misaki's ``ToneSandhi``, from PaddleSpeech): 你好 ni3hao3 → ni2hao3,
不是 bu4shi4 → bu2shi4, 一个 yi1ge4 → yi2ge4, neutral tones of particles and suffixes; and it fixes a few
readings pypinyin gets wrong in this domain (``PHRASES``: 长时间 chang2, 三相 xiang4, 还款 huan2).
"""

from __future__ import annotations

import re
import threading

_ZH = re.compile(r"[\u4E00-\u9FFF]+|[^\u4E00-\u9FFF]+")
# jieba words whose pypinyin reading is wrong for a power utility (长 chang2, 相 xiang4, 还 huan2).
PHRASES = {
    w: p.split()
    for w, p in {
        "长时间": "chang2 shi2 jian1",
        "较长": "jiao4 chang2",
        "很长": "hen3 chang2",
        "多长": "duo1 chang2",
        "三相": "san1 xiang4",
        "单相": "dan1 xiang4",
        "单相电": "dan1 xiang4 dian4",
        "三相电": "san1 xiang4 dian4",
        "还款": "huan2 kuan3",
        "还钱": "huan2 qian2",
    }.items()
}


class MandarinG2P:
    """Callable: ``g2p(text) -> phoneme string`` for text already passed through ``say.normalize``."""

    def __init__(self, sandhi: bool = True):
        import jieba
        import jieba.posseg as psg
        from misaki import zh
        from misaki.tone_sandhi import ToneSandhi
        from pypinyin import Style, lazy_pinyin

        jieba.setLogLevel(60)  # silence "Building prefix dict…" on stderr
        self._zh, self._psg, self._sandhi = zh.ZHG2P, psg, ToneSandhi() if sandhi else None
        self._pinyin = lambda word, style: lazy_pinyin(word, style=style, neutral_tone_with_five=True)
        self._tone3, self._finals = Style.TONE3, Style.FINALS_TONE3
        self._lock = threading.Lock()  # jieba's lazy initialisation is not thread-safe

    def __call__(self, text: str) -> str:
        text = self._zh.map_punctuation(text.strip())
        if not text:
            return ""
        with self._lock:
            pieces = [
                self._words(seg) if _ZH.fullmatch(seg) and seg[0] >= "\u4e00" else seg for seg in _ZH.findall(text)
            ]
        return "".join(pieces).replace(chr(815), "")

    def _words(self, segment: str) -> str:
        if self._sandhi is None:
            import jieba

            return " ".join(self._zh.word2ipa(w) for w in jieba.lcut(segment, cut_all=False))
        words: list[tuple[str, str]] = []
        for word, pos in self._sandhi.pre_merge_for_modify([(w.word, w.flag) for w in self._psg.lcut(segment)]):
            if words and words[-1][0] + word in PHRASES:  # 较|长 → 较长
                words[-1] = (words[-1][0] + word, pos)
            else:
                words.append((word, pos))
        return " ".join(self._word(word, pos) for word, pos in words)

    def _word(self, word: str, pos: str) -> str:
        if word in PHRASES:
            return "".join(self._zh.py2ipa(s) for s in PHRASES[word])
        syllables = self._pinyin(word, self._tone3)
        finals = self._pinyin(word, self._finals)
        if len(syllables) == len(finals) == len(word):
            finals = self._sandhi.modified_tone(word, pos, finals)
            syllables = [_retone(s, f) for s, f in zip(syllables, finals)]
        return "".join(self._zh.py2ipa(s) for s in syllables)


def _retone(syllable: str, final: str) -> str:
    """Give ``syllable`` (TONE3, e.g. ``ni3``) the tone digit of the sandhi-modified ``final``."""
    if syllable[-1:].isdigit() and final[-1:].isdigit():
        return syllable[:-1] + final[-1]
    return syllable

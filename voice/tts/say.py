"""Spoken-text normalisation: numbers and symbols read the way a 95598 agent reads them on the phone.

Runs before grapheme-to-phoneme conversion, which would otherwise read every digit string as a quantity
(cn2an turns "95598" into 九万五千五百九十八). After ``normalize`` the text holds no ASCII digits.

* phone numbers, 户号, order numbers, hotlines, codes: digit by digit, 1 as 幺, 0 as 零, in groups
  (``13912340001`` → 幺三九、幺二三四、零零零幺; ``95598`` → 九五五九八; ``G26112800123`` → 吉、二六幺、…);
* money ``123.45元`` → 一百二十三元四角五分; ``¥2`` → 两元;
* dates ``2026年11月28日`` → 二零二六年十一月二十八日, ``2026-11-28`` likewise; times ``14:30`` → 十四点三十分;
* percentages ``5.5%`` → 百分之五点五; energy ``120度`` / ``120kWh`` → 一百二十度; ``10kV`` → 十千伏;
* other numbers as quantities (``3户`` → 三户, ``2.5`` → 二点五); Latin letters spelled (``APP`` → 诶批批).
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
PHONE_DIGITS = "零幺二三四五六七八九"
LETTERS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            "诶",
            "必",
            "西",
            "迪",
            "伊",
            "艾弗",
            "吉",
            "艾尺",
            "艾",
            "杰",
            "开",
            "艾勒",
            "艾姆",
            "恩",
            "欧",
            "批",
            "吉优",
            "阿",
            "艾斯",
            "提",
            "优",
            "维",
            "达不溜",
            "艾克斯",
            "歪",
            "贼德",
        ),
    )
)
_WIDE = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {"％": "%", "．": ".", "￥": "¥", "－": "-", "～": "~", "＃": "#", "＊": "*"}
)
# A number followed by one of these is a quantity even when long ("12000户"), never a code.
_COUNTERS = "户人个次天周小时分钟秒元块角度千瓦伏条位台张份项家所公里米万亿多余笔期栋楼层号月年岁倍"
_NUM = r"\d+(?:\.\d+)?"
# After these a 2 is counted as 两 (两个小时, 两户, 两块钱), unless it is an ordinal (第2次).
_MEASURES = "个|小时|天|次|户|位|张|台|条|项|份|家|笔|周|分钟|秒钟|年|倍|块|套|间|种|路|遍|声"


def read_digits(digits: str, yao: bool = True) -> str:
    """Digit by digit: 幺 for 1 when ``yao`` (phone style), 一 otherwise (years, decimals)."""
    table = PHONE_DIGITS if yao else DIGITS
    return "".join(table[int(d)] for d in digits)


def group_digits(digits: str) -> str:
    """Read a code digit by digit in groups of at most four, the longer groups last (3-4-4 for phones)."""
    n = len(digits)
    if n <= 6:
        return read_digits(digits)
    count = -(-n // 4)
    sizes = [n // count + (i >= count - n % count) for i in range(count)]  # remainder to the last groups
    out, i = [], 0
    for size in sizes:
        out.append(read_digits(digits[i : i + size]))
        i += size
    return "、".join(out)


def _four(n: int, liang_lead: bool) -> str:
    """0 < n < 10000 → 一千零五 style; 两 for a 2 in the thousands, or leading the hundreds."""
    out, zero, first = [], False, True
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero = not first
            continue
        if zero:
            out.append("零")
        digit = DIGITS[d]
        if d == 2 and (unit == "千" or (unit == "百" and first and liang_lead)):
            digit = "两"
        out.append(digit + unit)
        zero, first = False, False
    return "".join(out)


def cardinal(n: int, liang: bool = False) -> str:
    """An integer as a quantity: 10 → 十, 110 → 一百一十, 1005 → 一千零五, 120000 → 十二万.

    ``liang``: counting style for amounts (2 → 两, 2000 → 两千, 12000 → 一万两千, 200 → 两百).
    """
    if n < 0:
        return "负" + cardinal(-n, liang)
    if n == 0:
        return "零"
    if liang and n == 2:
        return "两"
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, pending_zero = [], False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or g < 1000):
            out.append("零")
        lead = not out
        text = "两" if liang and g == 2 and i > 0 else _four(g, liang and lead)
        out.append(text + ("", "万", "亿", "万亿")[i])
        pending_zero = False
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


def decimal(number: str, liang: bool = False) -> str:
    """``"2.5"`` → 二点五, ``"0.75"`` → 零点七五 (digits after the point read one by one)."""
    whole, _, frac = number.partition(".")
    head = cardinal(int(whole), liang and not frac)
    return f"{head}点{read_digits(frac, yao=False)}" if frac else head


def money(amount: str) -> str:
    """``"123.45"`` → 一百二十三元四角五分, ``"0.5"`` → 五角, ``"8.05"`` → 八元零五分, ``"2"`` → 两元."""
    sign = "负" if amount.startswith("-") else ""
    whole, _, frac = amount.lstrip("-").partition(".")
    cents = round(float("0." + (frac or "0")) * 100)
    yuan = int(whole or 0) + cents // 100
    jiao, fen = divmod(cents % 100, 10)
    out = cardinal(yuan, liang=True) + "元" if yuan or not (jiao or fen) else ""
    if jiao:
        out += ("两" if jiao == 2 else DIGITS[jiao]) + "角"
    if fen:
        out += ("零" if yuan and not jiao else "") + ("两" if fen == 2 else DIGITS[fen]) + "分"
    return sign + out


def clock(hour: int, minute: int, second: int = 0) -> str:
    """14:30 → 十四点三十分, 8:05 → 八点零五分, 2:00 → 两点."""
    out = cardinal(hour, liang=True) + "点"
    if minute:
        out += ("零" if minute < 10 else "") + cardinal(minute) + "分"
    if second:
        out += ("" if minute else "零分") + ("零" if second < 10 else "") + cardinal(second) + "秒"
    return out


def _date(m: re.Match) -> str:
    return f"{read_digits(m[1], yao=False)}年{cardinal(int(m[2]))}月{cardinal(int(m[3]))}日"


def _code(m: re.Match) -> str:
    letters = "".join(LETTERS[c] for c in m[1].upper())
    return f"{letters}、{group_digits(m[2])}" if letters else group_digits(m[2])


def _time(m: re.Match) -> str:
    return clock(int(m[1]), int(m[2]), int(m[3] or 0))


_KEYED = "尾号|后[四4]位|验证码|户号|工单号|工单编号|编号|号码|卡号|分机号?"
# Each rule's output that reads a number is wrapped in NUM_OPEN … NUM_CLOSE, so `spans` can tell the live
# numbers from the fixed words around them (voice.tts.compose speaks those from pre-rendered clips).
NUM_OPEN, NUM_CLOSE = "\x02", "\x03"


def _n(text: str) -> str:
    return f"{NUM_OPEN}{text}{NUM_CLOSE}"


_RULES: tuple[tuple[re.Pattern, object], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"#号?", "井号"),
        (r"(?<![A-Za-z])No\.\s*(?=\d)", "第"),
        (r"\*号?", "星号"),
        (r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)", lambda m: _n(_date(m))),
        (r"(?<!\d)(0\d{2,3})-(\d{7,8})(?!\d)", lambda m: _n(f"{group_digits(m[1])}、{group_digits(m[2])}")),
        (r"(?<=\d)\s*[-~]\s*(?=\d)", "到"),
        (r"(?<!\d)(\d{1,2}):(\d{2})(?::(\d{2}))?(?!\d)", lambda m: _n(_time(m))),
        (r"(?<![\d.])(\d{1,2})点(?:零?(\d{1,2})分)?", lambda m: _n(clock(int(m[1]), int(m[2] or 0)))),  # 3点20分
        (r"(?<!\d)(\d{4})\s*年", lambda m: _n(read_digits(m[1], yao=False) + "年")),
        (r"(?<!\d)(?<!\d\.)(\d{1,2})\s*(月|日|号)", lambda m: _n(cardinal(int(m[1])) + m[2])),
        (rf"¥\s*(-?{_NUM})", lambda m: _n(money(m[1]))),
        (rf"(?<!\d)(?<!\d\.)(-?{_NUM})\s*元", lambda m: _n(money(m[1]))),
        (rf"({_NUM})\s*%", lambda m: _n("百分之" + decimal(m[1]))),
        (rf"({_NUM})\s*(?:kWh|kwh|KWH|KWh)", lambda m: _n(decimal(m[1], liang=True) + "度")),
        (rf"({_NUM})\s*(度|千瓦时|千瓦|千伏)", lambda m: _n(decimal(m[1], liang=True) + m[2])),
        (rf"({_NUM})\s*(?:kW|KW|kw)(?![A-Za-z])", lambda m: _n(decimal(m[1], liang=True) + "千瓦")),
        (rf"({_NUM})\s*(?:kV|KV|kv)(?![A-Za-z])", lambda m: _n(decimal(m[1], liang=True) + "千伏")),
        (rf"({_NUM})\s*V(?![A-Za-z])", lambda m: _n(decimal(m[1]) + "伏")),
        (r"(?<![A-Za-z\d])([A-Za-z]{1,3})-?(\d{4,})(?![\d.])", lambda m: _n(_code(m))),
        (rf"((?:{_KEYED})(?:是|为|:|：)?\s*)(\d+)(?![\d.])", lambda m: m[1] + _n(group_digits(m[2]))),
        (rf"(?<!\d)(?<!\d\.)(\d{{5,}}|0\d+)(?![\d.])(?!\s*[{_COUNTERS}])", lambda m: _n(group_digits(m[1]))),
        (rf"(?<!\d)(?<!\d\.)(?<!第)({_NUM})(?=\s*(?:{_MEASURES}))", lambda m: _n(decimal(m[1], liang=True))),
        (rf"(?<!\d)(?<!\d\.)({_NUM})", lambda m: _n(decimal(m[1]))),
        (r"[A-Za-z]", lambda m: LETTERS[m[0].upper()]),
    )
)


def normalize(text: str) -> str:
    """Rewrite ``text`` so every number, unit and symbol reads as a hotline agent would say it."""
    return _marked(text).replace(NUM_OPEN, "").replace(NUM_CLOSE, "")


def spans(text: str) -> list[tuple[str, bool]]:
    """``normalize(text)`` cut into (spoken text, is_number) runs, in order; joined they equal it.

    >>> spans("工单号是G26112800123。")
    [('工单号是', False), ('吉、二六幺、幺二八零、零幺二三', True), ('。', False)]
    """
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"{NUM_OPEN}([^{NUM_CLOSE}]*){NUM_CLOSE}", _marked(text))):
        if not part:
            continue
        number = i % 2 == 1
        if out and out[-1][1] == number:  # two numbers side by side (2026年11月) are one run
            out[-1] = (out[-1][0] + part, number)
        else:
            out.append((part, number))
    return out


def _marked(text: str) -> str:
    text = re.sub(r"\s+", " ", text.translate(_WIDE)).strip()
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # 1,234 → 1234
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text

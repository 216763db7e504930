"""The catalog's generic slot kinds: how a value is read from the customer's words, shown in a read-back and
checked against the slot's settings (catalog/service_functions.yml `slots`). A service function whose slots
are of these kinds needs no extraction or validation code of its own.

    text    the whole answer, when the slot was asked for
    choice  `options` {value: pattern}; with `free: true` the answer itself when no option fits
    items   the `words` named anywhere ("电视和冰箱" -> 电视、冰箱); the answer itself when asked and none fits
    date    a calendar day (今天, 下周一, 12月10号, 2026-12-10); `range: start|end` pairs two slots, so
            "12月10号到20号" or "下周一开始用三个月" fill both; `not_past`, `after: <slot>` are checked
    number  a quantity with one of its `unit_words` (50千伏安, 五十千瓦), a bare number when asked; `min`, `max`
    when    a past moment (昨天晚上八点多, 前天下午) as "YYYY-MM-DD HH:MM" / "YYYY-MM-DD 晚上"; `past` is checked
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from actions.extract import CORRECTING, compact
from backend.spoken import DIGITS, LOCAL_TZ
from knowledge.catalog import GENERIC_KINDS, SlotSpec

__all__ = ["GENERIC_KINDS", "SlotSpec", "cn_number", "dates", "moment", "problem", "read", "shown"]

CN_DIGITS = {word: int(digit) for word, digit in DIGITS.items()}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
WEEKDAYS = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "末": 5,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
RELATIVE_DAYS = {
    "大后天": 3,
    "后天": 2,
    "明天": 1,
    "明儿": 1,
    "今天": 0,
    "今儿": 0,
    "今晚": 0,
    "当天": 0,
    "大前天": -3,
    "前天": -2,
    "昨天": -1,
    "昨儿": -1,
    "昨晚": -1,
}
FULL_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?")
MONTH_DAY = re.compile(rf"(?:(下个?月|这个?月|本月)|({NUM})\s*月份?)\s*({NUM})\s*[日号]")
MONTH_PART = re.compile(rf"({NUM})\s*月份?\s*(初|上旬|中旬|下旬|底|末)")  # "3月中旬", "5月底"
MONTH_PART_DAY = {"初": 1, "上旬": 5, "中旬": 15, "下旬": 25}
WEEKDAY = re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天末1-7])")
RELATIVE = re.compile("|".join(sorted(RELATIVE_DAYS, key=len, reverse=True)))
BARE_DAY = re.compile(rf"(?<![\d月号路街巷楼栋室])({NUM})\s*[日号](?![楼栋院室])")
# "三个月", "10天", "两周", "半年"; not the 12月 of a date or the 2026年 of a full date
DURATION = re.compile(  # "星期三" / "礼拜三" are days, but "工期三个月" is a period
    rf"(?<!星期)(?<!礼拜)(?<![周\d零一二两三四五六七八九十])({NUM}|半)\s*"
    rf"(?:个\s*(月|星期|礼拜)|(天|周|星期|礼拜|年)(?![\d零一二两三四五六七八九十]{{1,2}}月))"
)
RANGE_WORDS = re.compile(r"到|至|~|～|—|－")
END_WORDS = re.compile(r"到|至|结束|截止|为止|完工|撤")
PERIODS = {
    "凌晨": 3,
    "早上": 8,
    "早晨": 8,
    "上午": 10,
    "中午": 12,
    "下午": 15,
    "傍晚": 18,
    "晚上": 20,
    "夜里": 22,
    "半夜": 0,
    "昨晚": 20,
    "今晚": 20,
}
HOUR = re.compile(rf"({NUM})\s*[点時时](半|{NUM}\s*分?)?")


def local_now() -> dt.datetime:
    """The customers' wall clock: "明天" and "昨天晚上" are days where they live."""
    return dt.datetime.now(LOCAL_TZ).replace(tzinfo=None)


def cn_number(text: str) -> float | None:
    """50, 2.5, 五十, 两百五, 一千二, 十五 as a number (None when it is not one)."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not text or any(c not in CN_DIGITS and c not in CN_UNITS for c in text):
        return None
    total, digit, last_unit = 0, None, 1
    for c in text:
        if c in CN_DIGITS:
            digit = CN_DIGITS[c]
        else:
            total += (1 if digit is None else digit) * CN_UNITS[c]
            digit, last_unit = None, CN_UNITS[c]
    if digit is not None:  # 两百五 = 250: a trailing digit counts in the unit below the last one
        total += digit * (last_unit // 10 if last_unit >= 100 and len(text) >= 3 and text[-2] in CN_UNITS else 1)
    return float(total)


def _int(text: str) -> int | None:
    n = cn_number(text)
    return int(n) if n is not None else None


def _day(year: int, month: int | None, day: int | None) -> dt.date | None:
    if not month or not day or not 1 <= month <= 12:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def dates(text: str, today: dt.date, bare: bool = False) -> list[tuple[int, dt.date]]:
    """The days named in the text with their positions, in order. A bare "10号" counts only when `bare`
    (the question was about a date) or after a range word ("12月10号到20号"): otherwise it is a house number."""
    text = compact(text or "")
    found: list[tuple[int, dt.date]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], day: dt.date | None) -> None:
        if day and not any(a < m.end() and m.start() < b for a, b in taken):
            found.append((m.start(), day))
            taken.append((m.start(), m.end()))

    for m in FULL_DATE.finditer(text):
        add(m, _day(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in MONTH_DAY.finditer(text):
        if m.group(1):
            month = today.month + (1 if m.group(1).startswith("下") else 0)
            base = add_months(today.replace(day=1), month - today.month)
            add(m, _day(base.year, base.month, _int(m.group(3))))
        else:
            add(m, _day(today.year, _int(m.group(2)), _int(m.group(3))))
    for m in MONTH_PART.finditer(text):
        named = _int(m.group(1))
        if named and 1 <= named <= 12:
            last = calendar.monthrange(today.year, named)[1]
            add(m, _day(today.year, named, MONTH_PART_DAY.get(m.group(2), last)))
    for m in WEEKDAY.finditer(text):
        week = {"下下": 2, "下": 1, "下个": 1}.get(m.group(1) or "", 0)
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=week)
        add(m, monday + dt.timedelta(days=WEEKDAYS[m.group(2)]))
    for m in RELATIVE.finditer(text):
        add(m, today + dt.timedelta(days=RELATIVE_DAYS[m.group()]))
    for m in BARE_DAY.finditer(text):
        after_range = bool(found) and bool(RANGE_WORDS.search(text[max(0, m.start() - 3) : m.start()]))
        if bare or after_range:
            prior = max((d for p, d in found if p < m.start()), default=today)
            add(m, _day(prior.year, prior.month, _int(m.group(1))))
    return sorted(found)


def duration_end(text: str, start: dt.date) -> dt.date | None:
    """ "用三个月" from the start day: the last day of that period."""
    m = DURATION.search(compact(text or ""))
    if not m:
        return None
    n = 0.5 if m.group(1) == "半" else cn_number(m.group(1))
    if not n:
        return None
    unit = m.group(2) or m.group(3)
    if unit in ("天", "日"):
        return start + dt.timedelta(days=max(int(n) - 1, 0))
    if unit in ("周", "星期", "礼拜"):
        return start + dt.timedelta(days=int(7 * n) - 1)
    months = int(n * 12) if unit == "年" else int(n) if n >= 1 else 0
    return add_months(start, months) - dt.timedelta(days=1) if months else start + dt.timedelta(days=14)


def moment(text: str, now: dt.datetime) -> str | None:
    """A past moment: "昨天晚上八点多" -> "YYYY-MM-DD 20:00", "前天下午" -> "YYYY-MM-DD 下午"."""
    t = compact(text or "")
    if re.search(r"刚才|刚刚|刚(?:一)?来电|就在刚", t):
        return f"{now:%Y-%m-%d %H}:00"
    days = dates(t, now.date())
    day = days[0][1] if days else None
    if day and day > now.date():  # a month and day not yet come this year: last year's
        day = day.replace(year=day.year - 1)
    period = next((p for p in PERIODS if p in t), None)
    hour_match = HOUR.search(t)
    hour = _int(hour_match.group(1)) if hour_match else None
    if hour is not None and hour <= 12 and period in ("下午", "傍晚", "晚上", "夜里", "昨晚", "今晚") and hour < 12:
        hour += 12
    if day is None and (hour is not None or period):
        day = now.date()
        if hour is not None and hour > now.hour:
            day -= dt.timedelta(days=1)  # "晚上八点" said in the morning: last night
    if day is None:
        return None
    if hour is not None and 0 <= hour <= 23:
        minutes = 30 if hour_match and hour_match.group(2) == "半" else 0
        return f"{day:%Y-%m-%d} {hour:02d}:{minutes:02d}"
    return f"{day:%Y-%m-%d} {period}" if period else f"{day:%Y-%m-%d}"


def quantity(spec: SlotSpec, text: str, asked: bool) -> str | None:
    units = "|".join(re.escape(u) for u in spec.settings.get("unit_words", [spec.settings.get("unit", "")]) if u)
    t = compact(text or "")
    m = re.search(rf"({NUM})\s*(?:多|来)?\s*个?\s*(?:{units})", t, re.IGNORECASE) if units else None
    if m is None and asked:
        m = re.search(rf"(?<![\d.])({NUM})(?![\d.])", t)
        if m and re.fullmatch(r"\d{6,}", m.group(1)):
            m = None  # a phone or account number, not a quantity
    n = cn_number(m.group(1)) if m else None
    return None if n is None else f"{n:g}"


def _one(spec: SlotSpec, text: str, asked: bool, today: dt.date, now: dt.datetime) -> Any:
    s = spec.settings
    if spec.kind == "text":
        return text.strip()[:200] if asked and len(text.strip()) >= 2 else None
    if spec.kind == "choice":
        value = next((v for v, pattern in (s.get("options") or {}).items() if re.search(str(pattern), text)), None)
        return value if value is not None else (text.strip()[:40] if asked and s.get("free") else None)
    if spec.kind == "items":
        named = sorted((text.find(w), str(w)) for w in s.get("words", []) if w in text)
        names = list(dict.fromkeys(w for _, w in named if not any(w != o and w in o for _, o in named)))
        return "、".join(names) if names else (text.strip()[:100] if asked and len(text.strip()) >= 2 else None)
    if spec.kind == "number":
        return quantity(spec, text, asked)
    if spec.kind == "when":
        return moment(text, now) or (text.strip()[:40] if asked and len(text.strip()) >= 2 else None)
    return None


def _date_range(
    specs: list[SlotSpec], text: str, requested: str | None, known: dict[str, Any], today: dt.date
) -> dict[str, Any]:
    """Start and end days of one request (a `date` slot with `range: start` and one with `range: end`)."""
    start = next((s for s in specs if s.settings.get("range") == "start"), None)
    end = next((s for s in specs if s.settings.get("range") == "end"), None)
    found = dates(text, today, bare=requested in {s.name for s in specs})
    if any(s.settings.get("not_past") for s in specs):  # "1月5号" said in December: next January
        found = [(p, d.replace(year=d.year + 1) if (today - d).days > 31 else d) for p, d in found]
    days = [d for _, d in found]
    out: dict[str, Any] = {}
    if end is not None and requested == end.name:
        if days:
            out[end.name] = days[-1]
            if len(days) > 1 and start is not None:
                out[start.name] = days[0]
        elif start is not None and known.get(start.name):
            out[end.name] = duration_end(text, dt.date.fromisoformat(str(known[start.name])))
    elif days and start is not None:
        single_end = (
            len(days) == 1 and END_WORDS.search(text) and not re.search(r"从|开始|起", text) and requested != start.name
        )
        if single_end and end is not None:
            out[end.name] = days[0]
        else:
            out[start.name] = days[0]
            if end is not None:
                out[end.name] = days[1] if len(days) > 1 else duration_end(text, days[0])
    elif end is not None and start is not None and known.get(start.name) and not known.get(end.name):
        out[end.name] = duration_end(text, dt.date.fromisoformat(str(known[start.name])))
    for slot in [s for s in specs if not s.settings.get("range")]:
        if found and (requested == slot.name or not known.get(slot.name)):
            out[slot.name] = found[0][1]
    return {k: v.isoformat() for k, v in out.items() if v is not None}


def read(
    specs: list[SlotSpec], text: str, requested: str | None, known: dict[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """Values for the form's generic slots found in one message. A slot not asked about is filled only when
    it is still empty or the message corrects it ("不对，容量是100千伏安")."""
    if not specs or not text or text.startswith("/"):
        return {}
    now = now or local_now()
    today = now.date()
    correcting = bool(CORRECTING.search(text))
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.kind != "date":
            value = _one(spec, text, requested == spec.name, today, now)
            if value is not None:
                values[spec.name] = value
    values.update(_date_range([s for s in specs if s.kind == "date"], text, requested, known, today))
    return {k: v for k, v in values.items() if k == requested or correcting or known.get(k) in (None, "")}


def shown(spec: SlotSpec, value: Any) -> str:
    """How a value is read back: a day as 12月10日, a quantity with its unit."""
    if spec.kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        day = dt.date.fromisoformat(str(value))
        year = "" if day.year == local_now().year else f"{day.year}年"
        return f"{year}{day.month}月{day.day}日"
    if spec.kind == "number":
        return f"{value}{spec.settings.get('unit', '')}"
    return str(value)


def problem(spec: SlotSpec, value: Any, known: dict[str, Any], today: dt.date | None = None) -> str | None:
    """Why a value cannot be taken (said to the customer), or None."""
    s, today = spec.settings, today or local_now().date()
    if spec.kind == "number" and value is not None:
        n = float(value)
        low, high = s.get("min"), s.get("max")
        if (low is not None and n < low) or (high is not None and n > high):
            return f"{spec.label}一般在{low:g}到{high:g}{s.get('unit', '')}之间，请再确认一下。"
    if spec.kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value or "")):
        day = dt.date.fromisoformat(str(value))
        if s.get("not_past") and day < today:
            return f"{spec.label}不能早于今天，请再说一下是哪天。"
        after = known.get(str(s.get("after", "")))
        if after and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(after)) and day < dt.date.fromisoformat(str(after)):
            return f"{spec.label}要在开始日期之后，请再说一下是哪天。"
    past = re.match(r"\d{4}-\d{2}-\d{2}", str(value or "")) if spec.kind == "when" and s.get("past") else None
    if past and dt.date.fromisoformat(past.group()) > today:
        return f"{spec.label}还没到呢，请说一下是哪天、大概几点。"
    return None

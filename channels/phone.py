"""Phone numbers as the channels meet them: a caller ID in national form, a number masked for display."""

from __future__ import annotations

import re

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{9,11}")


def national_number(raw: str | None) -> str | None:
    """+8613912340001 / 008613912340001 / 13912340001 -> 13912340001; withheld or odd numbers -> None."""
    digits = re.sub(r"\D", "", raw or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12):
            digits = digits[len(prefix) :]
            if not MOBILE.fullmatch(digits):
                digits = "0" + digits  # landline: 86 10 1234 5678 -> 010 1234 5678
            break
    if MOBILE.fullmatch(digits) or LANDLINE.fullmatch(digits):
        return digits
    return None


def masked_phone(phone: str | None) -> str:
    """139****0001: what a queue row shows before the case is claimed ("" for no or a too short number)."""
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else ""

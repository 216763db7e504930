"""Masking personal data where it is not needed: logs, exported transcripts, colleagues' screens.

Mobile numbers keep the first 3 and last 4 digits (139****0001), ID numbers the first 6 and last 4,
account numbers (户号) only the last 4. Applied to whole texts, so numbers inside sentences are caught.
"""

from __future__ import annotations

import logging
import re
from typing import Any

ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
MOBILE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")
ACCOUNT = re.compile(r"(?<!\d)\d{6}(\d{4})(?!\d)")


def mask(text: str) -> str:
    if not text:
        return text
    text = ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(3)}", text)
    return ACCOUNT.sub(lambda m: f"******{m.group(1)}", text)


def mask_value(value: Any) -> Any:
    """Masks strings inside nested dicts/lists (a case's context, a profile)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value


def install_log_masking() -> None:
    """Every log record of this process is masked before any handler formats it."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_pii", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            record.msg = mask(record.getMessage())
            record.args = None
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is left to logging's own error path
            pass
        return record

    masked_record.masks_pii = True
    logging.setLogRecordFactory(masked_record)

"""Personal data masking, log masking and per-sender limits (no servers needed)."""

from __future__ import annotations

import logging

from backend.pii import install_log_masking, mask, mask_value
from backend.ratelimit import SlidingWindow


def test_numbers_are_masked_inside_sentences():
    text = "我叫王建国，手机13912340001，户号3201000001，身份证32010219800101123X，工单G26112800062"
    masked = mask(text)
    assert "139****0001" in masked and "******0001" in masked and "320102********123X" in masked
    for whole in ("13912340001", "3201000001", "32010219800101123X"):
        assert whole not in masked
    assert "G26112800062" in masked  # order numbers are not personal data
    assert mask_value({"a": ["13912340001", 5], "b": None}) == {"a": ["139****0001", 5], "b": None}


def test_log_records_are_masked_before_any_handler(caplog):
    install_log_masking()
    install_log_masking()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("p95598.test").info("caller %s account %s", "+8613912340001", "3201000001")
    assert caplog.records[-1].getMessage() == "caller +86139****0001 account ******0001"


def test_sliding_window_limits_per_key():
    limit = SlidingWindow(limit=3, window=60)
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b") and limit.count("a") == 3

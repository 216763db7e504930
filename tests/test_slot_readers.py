"""The catalog's generic slot kinds read colloquial Chinese: days and periods, quantities in words, past
moments, the things named; a house number is never a day, a phone number never a quantity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from actions import slot_readers as r
from knowledge.catalog import _slot

RAW: dict[str, dict[str, Any]] = {  # as a catalog entry would define them
    "purpose": {
        "kind": "choice",
        "label": "用途",
        "free": True,
        "options": {"建筑施工": "工地|施工|盖楼", "活动演出": "活动|演出|庙会"},
    },
    "start_date": {"kind": "date", "label": "开始日期", "range": "start", "not_past": True},
    "end_date": {"kind": "date", "label": "结束日期", "range": "end", "after": "start_date"},
    "capacity_kva": {
        "kind": "number",
        "label": "用电容量",
        "unit": "千伏安",
        "unit_words": ["千伏安", "kva", "千瓦"],
        "min": 1,
        "max": 2000,
    },
    "fault_time": {"kind": "when", "label": "故障时间", "past": True},
    "appliances": {"kind": "items", "label": "损坏电器", "words": ["电视机", "电视", "冰箱", "路由器"]},
}
SLOTS = {name: _slot(name, raw) for name, raw in RAW.items()}
NOW = dt.datetime(2026, 12, 4, 10, 0)  # a Friday morning
SUPPLY = [SLOTS[s] for s in ("purpose", "start_date", "end_date", "capacity_kva")]


@pytest.mark.parametrize(
    "words, number",
    [("五十", 50), ("两百五", 250), ("一千二", 1200), ("十五", 15), ("一百零五", 105), ("2.5", 2.5), ("电视", None)],
)
def test_numbers_in_words(words, number):
    assert r.cn_number(words) == number


@pytest.mark.parametrize(
    "text, requested, known, wanted",
    [
        (
            "我们工地下周一开始用电，大概用三个月，要50千伏安",
            None,
            {},
            {"purpose": "建筑施工", "start_date": "2026-12-07", "end_date": "2027-03-06", "capacity_kva": "50"},
        ),
        ("12月10号到20号", "start_date", {}, {"start_date": "2026-12-10", "end_date": "2026-12-20"}),
        ("20号", "end_date", {"start_date": "2026-12-10"}, {"end_date": "2026-12-20"}),
        ("用两个月", "end_date", {"start_date": "2026-12-10"}, {"end_date": "2027-02-09"}),
        ("1月5号", "start_date", {}, {"start_date": "2027-01-05"}),  # a month gone by this year: next year's
        ("1月8号动工，工期六个礼拜", None, {}, {"start_date": "2027-01-08", "end_date": "2027-02-18"}),
        ("后天开始，一直用到2月底", None, {}, {"start_date": "2026-12-06", "end_date": "2027-02-28"}),
        ("估计要到4月上旬吧", "end_date", {"start_date": "2026-12-10"}, {"end_date": "2027-04-05"}),
        ("下星期三开始", "start_date", {}, {"start_date": "2026-12-09"}),  # a weekday, not three weeks
        ("一百", "capacity_kva", {}, {"capacity_kva": "100"}),
        ("五十千瓦左右", None, {}, {"capacity_kva": "50"}),
        ("城北区振兴路18号", "address", {}, {}),  # a house number, not a day
        ("13912345678", "capacity_kva", {}, {}),  # a phone number, not a quantity
        ("村里办庙会唱大戏", "purpose", {}, {"purpose": "活动演出"}),
        ("就是搭个棚子用", "purpose", {}, {"purpose": "就是搭个棚子用"}),  # no option fits: the answer itself
        ("要100千伏安", None, {"capacity_kva": "50"}, {}),  # not asked: what is known stays
        ("不对，容量是100千伏安", None, {"capacity_kva": "50"}, {"capacity_kva": "100"}),
    ],
)
def test_temporary_supply_slots_from_colloquial_answers(text, requested, known, wanted):
    assert r.read(SUPPLY, text, requested, known, NOW) == wanted


def test_appliances_and_fault_time():
    claim = [SLOTS["fault_time"], SLOTS["appliances"]]
    found = r.read(claim, "昨天晚上八点多来电的时候电视机和路由器都烧了", None, {}, NOW)
    assert found == {"fault_time": "2026-12-03 20:00", "appliances": "电视机、路由器"}
    assert r.read(claim, "前天下午", "fault_time", {}, NOW) == {"fault_time": "2026-12-02 下午"}
    assert r.read(claim, "记不太清了，上礼拜吧", "fault_time", {}, NOW) == {"fault_time": "记不太清了，上礼拜吧"}


def test_checks_and_read_back():
    today = NOW.date()
    assert "2000" in (r.problem(SLOTS["capacity_kva"], "5000", {}, today) or "")
    assert r.problem(SLOTS["capacity_kva"], "50", {}, today) is None
    assert "今天" in (r.problem(SLOTS["start_date"], "2026-12-01", {}, today) or "")
    assert "开始日期之后" in (r.problem(SLOTS["end_date"], "2026-12-08", {"start_date": "2026-12-10"}, today) or "")
    assert r.problem(SLOTS["fault_time"], "2026-12-05 20:00", {}, today)
    assert r.shown(SLOTS["capacity_kva"], "50") == "50千伏安"
    assert r.shown(SLOTS["start_date"], f"{r.local_now().year}-12-10") == "12月10日"

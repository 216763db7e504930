"""The arrears-risk model: features by hand on a made-up customer, the same on DuckDB and Spark, no leakage from
after the cut-off, the tree beating "latest bill in arrears" on held-out customers and a later window, model files
refused on another feature schema or damage (the store keeps the last good one), the Chinese path."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from insight.engine import Dataset, open_dataset
from insight.jobs.risk_features import FEATURES, KEYS, LABEL, features_as_of, risk_examples
from insight.periods import shift, span, start
from insight.risk import (
    HIGH,
    LABELS,
    MAGIC,
    ModelRefused,
    ModelStore,
    RiskModel,
    load_model,
    risk_rows,
    save,
    score,
    train,
)
from insight.risk_eval import deciles, ece, evaluate, precision_at
from insight.schema import TABLES, write
from tests.insight.conftest import same_frame

TARGET = "2026-06"  # labels known, 31 months of data before it in the small history


@pytest.fixture(scope="module")
def evaluated(duck: Dataset) -> tuple[RiskModel, dict[str, Any]]:
    return evaluate(duck)


@pytest.fixture(scope="module")
def target_examples(duck: Dataset) -> pd.DataFrame:
    return risk_examples(duck, TARGET).to_pandas()


# ---- features ------------------------------------------------------------------------------------------------


def _day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def test_features_by_hand(tmp_path: Path) -> None:
    """Customer A (target 2025-06, cut-off 2025-05-31): pays 3 days early except 2025-01 (40 days late), 2025-03
    (never) and 2025-04 (half on 05-20, the rest on 06-10, after the cut-off); its 2025-06 bill is paid 36 days late.
    B's first bill is the target's. C has no target bill."""
    bills, pays = [], []
    for p in span("2024-06", "2025-06"):
        due = start(shift(p, 1)) + dt.timedelta(days=14)
        bills.append(("A", p, 200.0, 100.0, due))
        late = {"2025-01": 40, "2025-04": 5, "2025-06": 36}.get(p, -3)
        if p == "2025-03":
            continue
        amount = 50.0 if p == "2025-04" else 100.0
        pays.append(("A", p, due + dt.timedelta(days=late), amount, "counter" if late > 0 else "wechat"))
    pays.append(("A", "2025-04", _day("2025-06-10"), 50.0, "wechat"))
    bills += [("B", "2025-06", 90.0, 45.0, _day("2025-07-15")), ("C", "2025-05", 90.0, 45.0, _day("2025-06-15"))]
    pays.append(("B", "2025-06", _day("2025-07-10"), 45.0, "app"))
    contacts = [
        ("c1", "A", dt.datetime(2025, 5, 20, 9), "phone", "bill_query"),
        ("c2", "A", dt.datetime(2025, 6, 2, 9), "phone", "arrears_reconnect"),  # after the cut-off
        ("c3", "A", dt.datetime(2024, 10, 1, 9), "phone", "balance_query"),  # before the 6 months
    ]
    customers = [(a, "A01", "L1", "T1", False, False, a == "A", 1960, _day("2010-01-01")) for a in "ABC"]
    rows: dict[str, list[tuple[Any, ...]]] = {"bills": bills, "payments": pays, "contacts": contacts}
    rows["customers"] = customers
    for name, schema in TABLES.items():
        data = rows.get(name, [])
        write(tmp_path, name, pa.table({c: [r[i] for r in data] for i, c in enumerate(schema.names)}, schema=schema))
    got = risk_examples(open_dataset(tmp_path, "duckdb"), "2025-06").to_pandas().set_index("account_no")

    assert sorted(got.index) == ["A", "B"]
    a = got.loc["A"]
    # known by 05-31 (due + 15 days): 2024-06 .. 2025-04; days late: 8 x -3, 40, 46 (03: unpaid), 16 (04: unpaid)
    expected = {
        "arrears_last": 1,  # 2025-04, half paid by the cut-off
        "unpaid_last_due": 1,
        "days_late_last": 16,
        "arrears_3m": 2,  # 2025-03, 2025-04
        "arrears_6m": 3,  # + 2025-01
        "arrears_12m": 3,
        "arrears_24m": 3,
        "unpaid_6m": 2,
        "partial_6m": 1,
        "days_late_mean": (8 * -3 + 40 + 46 + 16) / 11,
        "days_late_max": 46,
        "days_late_trend": (-3 + 40 - 3 + 46 + 16) / 5 - (-3),
        "unpaid_amount": 150.0,
        "echannel_share": 8 / 10,  # 8 early payments by wechat; the late one and the half at the counter
        "kwh_change": 0.0,  # no year-before bills
        "bill_amount": 100.0,
        "amount_ratio": 1.0,
        "months_billed": 12,
        "prepaid": 0,
        "low_income": 1,
        "contacts_bill_6m": 1,
        "contacts_arrears_6m": 0,
    }
    for name, value in expected.items():
        assert a[name] == pytest.approx(value), name
    assert bool(a[LABEL]) is True
    b = got.loc["B"]
    assert (b[list(FEATURES)] == 0).sum() >= len(FEATURES) - 1 and b["amount_ratio"] == 1.0
    assert bool(b[LABEL]) is False


def test_features_are_the_same_on_duckdb_and_spark(duck: Dataset, spark: Dataset) -> None:
    a = risk_examples(duck, TARGET).to_pandas()
    b = risk_examples(spark, TARGET).to_pandas()
    assert len(a) > 1000 and a[LABEL].notna().all()
    same_frame(a, b, ["account_no"])


def test_no_leakage_from_after_the_cut_off(duck: Dataset, history_dir: Path, tmp_path: Path) -> None:
    """Without any bill after the target period, payment or contact after the cut-off, and with the target bills'
    own amounts changed, the features are the same; the label is then unknown."""
    cut = features_as_of(TARGET)
    kept: dict[str, pa.Table] = {}
    for name in TABLES:
        table = duck[name].to_pyarrow()
        if name == "bills":
            table = table.filter(pc.less_equal(table["period"], TARGET))
            target = pc.equal(table["period"], TARGET)
            table = table.set_column(2, "kwh", pc.if_else(target, 1.0, table["kwh"]))
            table = table.set_column(3, "amount", pc.if_else(target, 9999.0, table["amount"]))
        elif name == "payments":
            table = table.filter(pc.less_equal(table["paid_on"], pa.scalar(cut, pa.date32())))
        elif name == "contacts":
            midnight = dt.datetime.combine(start(TARGET), dt.time())
            table = table.filter(pc.less(table["started_at"], pa.scalar(midnight, pa.timestamp("us"))))
        elif name == "meter_reads":
            table = table.filter(pc.less_equal(table["read_on"], pa.scalar(cut, pa.date32())))
        kept[name] = table
        write(tmp_path, name, table)
    full = risk_examples(duck, TARGET).to_pandas()
    short = risk_examples(open_dataset(tmp_path, "duckdb"), TARGET).to_pandas()
    assert full[LABEL].notna().all() and short[LABEL].isna().all()
    assert len(kept["payments"]) < duck["payments"].count().execute()
    columns = [*KEYS, *FEATURES]
    same_frame(full[columns], short[columns], ["account_no"])


def test_an_empty_period_gives_no_examples(duck: Dataset, evaluated: tuple[RiskModel, dict[str, Any]]) -> None:
    for period in ("2031-01", "2019-01"):
        examples = risk_examples(duck, period).to_pandas()
        assert examples.empty and list(examples.columns) == [*KEYS, *FEATURES, LABEL]
        scored = score(evaluated[0], examples)
        assert scored.empty and list(scored.columns) == ["account_no", "risk_probability", "risk_grade", "risk_path"]


# ---- the model against the baseline ----------------------------------------------------------------------------


def test_the_tree_beats_the_baseline_on_a_later_window_and_held_out_customers(
    evaluated: tuple[RiskModel, dict[str, Any]],
) -> None:
    model, results = evaluated
    assert max(results["training_periods"]) < min(results["later_periods"])
    for key in ("later", "held_out", "later_held_out"):
        tree, base = results[key]["tree"], results[key]["baseline"]
        assert tree["auc"] > base["auc"] + 0.1, (key, tree["auc"], base["auc"])
        assert tree["precision_top5"] > base["precision_top5"], (key, tree["precision_top5"], base["precision_top5"])
        assert tree["ece"] < 0.03, (key, tree["ece"])
        assert 5 <= len(tree["deciles"]) <= 10 and len(base["deciles"]) == 2  # a leaf, a value: one group
    assert results["held_out"]["n"] > 1000 and results["later"]["n"] > 1000
    assert model.metrics["later"]["tree_auc"] == pytest.approx(results["later"]["tree"]["auc"], abs=1e-4)


def test_metrics_by_hand() -> None:
    y = np.array([1, 0, 1, 0] * 25, dtype=bool)
    tied = np.array([1.0, 1.0, 0.0, 0.0] * 25)
    assert precision_at(y, tied, 0.25) == pytest.approx(0.5)  # a tie at the cut counts at its own rate
    assert precision_at(y, y.astype(float), 0.25) == 1.0
    calibrated = np.where(np.arange(1000) < 500, 0.2, 0.6)
    outcome = np.zeros(1000, dtype=bool)
    outcome[:100] = True
    outcome[500:800] = True
    assert ece(outcome, calibrated) < 0.01
    assert deciles(outcome, calibrated).predicted.iloc[0] == pytest.approx(0.6)
    assert ece(outcome, 1 - calibrated) > 0.3


# ---- model files and the store ---------------------------------------------------------------------------------


def _other_model(examples: pd.DataFrame, features: tuple[str, ...]) -> RiskModel:
    return train(examples, [TARGET], features)


def test_a_model_on_another_feature_schema_is_refused_and_the_last_good_one_stays(
    evaluated: tuple[RiskModel, dict[str, Any]], target_examples: pd.DataFrame, tmp_path: Path
) -> None:
    good = evaluated[0]
    store = ModelStore(tmp_path / "store")
    assert store.active() is None
    store.activate(good)
    kept = store.active_path()
    for features, why in ((FEATURES[:-1], "missing"), (tuple(reversed(FEATURES)), "another order")):
        path = save(_other_model(target_examples, features), tmp_path / f"other{len(features)}.model")
        with pytest.raises(ModelRefused, match="feature schema") as refused:
            store.activate(path)
        assert why in str(refused.value)
        assert store.active_path() == kept
        active = store.active()
        assert active is not None and active.version == good.version and active.features == FEATURES
    # this code's schema changing refuses the old file too
    with pytest.raises(ModelRefused, match="feature schema"):
        load_model(save(good, tmp_path / "good.model"), FEATURES[1:])


@pytest.mark.parametrize("damage", ["garbage", "empty", "bad header", "truncated", "header lies"])
def test_a_damaged_file_is_refused_and_the_last_good_one_stays(
    damage: str, evaluated: tuple[RiskModel, dict[str, Any]], target_examples: pd.DataFrame, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "store")
    store.activate(evaluated[0])
    kept = store.active_path()
    raw = save(evaluated[0], tmp_path / "good.model").read_bytes()
    bad = tmp_path / "bad.model"
    if damage == "garbage":
        bad.write_bytes(np.random.default_rng(1).bytes(5000))
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "bad header":
        bad.write_bytes(MAGIC + b"{not json\n" + raw[-100:])
    elif damage == "truncated":
        bad.write_bytes(raw[: len(raw) - 200])
    else:  # the header says FEATURES but the tree was fitted on other columns
        other = save(_other_model(target_examples, tuple(reversed(FEATURES))), tmp_path / "other.model").read_bytes()
        head, _, payload = other[len(MAGIC) :].partition(b"\n")
        good_head = raw[len(MAGIC) :].partition(b"\n")[0]
        import hashlib
        import json

        fields = json.loads(good_head)
        fields["payload_sha256"] = hashlib.sha256(payload).hexdigest()
        bad.write_bytes(MAGIC + json.dumps(fields).encode() + b"\n" + payload)
    with pytest.raises(ModelRefused):
        store.activate(bad)
    assert store.active_path() == kept and store.active() is not None


# ---- scores, grades and the path -----------------------------------------------------------------------------


TOLERANCE = {"days": 0.5, "yuan": 0.005, "percent": 0.005, "ratio": 0.005}  # days are said in whole days


def test_the_path_is_chinese_and_names_the_trees_thresholds(
    evaluated: tuple[RiskModel, dict[str, Any]], target_examples: pd.DataFrame
) -> None:
    model = evaluated[0]
    scored = score(model, target_examples)
    assert len(scored) == len(target_examples)
    assert np.allclose(scored.risk_probability, model.probability(target_examples))
    shares = scored.risk_grade.value_counts(normalize=True)
    assert set(shares.index) <= {"高", "中", "低"} and 0.01 <= shares.get(HIGH, 0) <= 0.15, shares
    t = model.tree.tree_
    x = target_examples[list(model.features)].astype(float)
    sample = pd.concat([scored[scored.risk_grade == HIGH].head(20), scored.sample(40, random_state=3)])
    for i, row in sample.iterrows():
        path = row.risk_path
        assert re.search(r"[\u4e00-\u9fff]", path) and len(path) <= 400, path
        *steps, last = path.split(" → ")
        assert last == f"{row.risk_grade}风险 ({row.risk_probability:.0%})", path
        nodes = model.tree.decision_path(x.iloc[[i]]).indices
        tested: dict[str, list[float]] = {}
        for n in nodes:
            if t.children_left[n] != t.children_right[n]:  # not the leaf
                tested.setdefault(model.features[t.feature[n]], []).append(float(t.threshold[n]))
        assert len(steps) == len(tested), path
        for step in steps:
            feature = max((f for f in tested if step.startswith(LABELS[f][0] + " ")), key=lambda f: len(LABELS[f][0]))
            _check_step(step[len(LABELS[feature][0]) + 1 :], LABELS[feature][1], x.iloc[i][feature], tested[feature])
    rows = risk_rows(model, scored.head(3), TARGET)
    assert rows[0]["period"] == TARGET and rows[0]["grade"] in "高中低" and rows[0]["model_version"] == model.version


def _check_step(text: str, kind: str, value: float, thresholds: list[float]) -> None:
    """One step of a path holds for the example's value and its numbers are the tree's thresholds."""
    if kind == "flag":
        assert text in ("= 是", "= 否") and (text == "= 是") == (value > 0.5)
        return
    if kind == "count":
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        low, high = (numbers[0], numbers[-1]) if ("–" in text or "=" in text) else (None, None)
        if text == "= 0":  # <= 0.5: none
            low = None
        if text.startswith("≥"):
            low = numbers[0]
        if text.startswith("≤"):
            high = numbers[0]
        assert (low is None or value >= low) and (high is None or value <= high), (text, value)
        assert low is None or any(math.floor(t) + 1 == low for t in thresholds), (text, thresholds)  # > 1.5: >= 2
        assert high is None or any(math.floor(t) == high for t in thresholds), (text, thresholds)  # <= 1.5: <= 1
        return
    for op, number in re.findall(r"([>≤]) (-?[\d.]+)", text.replace("提前", "-")):
        v = float(number) / (100 if kind == "percent" else 1)
        assert any(abs(v - t) <= TOLERANCE[kind] for t in thresholds), (text, thresholds)
        assert (value > v - TOLERANCE[kind]) if op == ">" else (value <= v + TOLERANCE[kind]), (text, value)

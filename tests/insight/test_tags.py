"""Tag rules: the shipped rules on the tiny history by hand (reasons, grades from the risk model's columns), bad
rules refused at load with the rule's id, gained/lost history, the empty period, and DuckDB against Spark."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from insight.engine import Dataset, open_dataset
from insight.periods import span
from insight.tag_rules import (
    DEFAULT_RULES,
    RuleError,
    customer_tags,
    history_from_presence,
    load_rules,
    referenced_columns,
    tag_columns,
    tag_history,
)
from tests.insight.conftest import same_frame
from tests.insight.test_features import TINY_PERIOD, write_tiny_history

RISK_COLUMNS = {"risk_probability": "float64", "risk_grade": "string"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: Any) -> Dataset:
    return open_dataset(write_tiny_history(tmp_path_factory.mktemp("tiny_tags")), "duckdb")


def rules_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tags.yml"
    path.write_text(body, encoding="utf-8")
    return path


def one_rule(rule_id: str, when: str, reason: str = "原因", extra: str = "") -> str:
    return (
        f"rules:\n  - id: {rule_id}\n    name: 测试\n    version: 3\n    owner: 测试组\n    description: 测试规则\n"
        f'    when: "{when}"\n    reason: "{reason}"\n{extra}'
    )


def test_the_shipped_rules_on_the_tiny_history(tiny: Dataset) -> None:
    rules = load_rules(DEFAULT_RULES, tag_columns(RISK_COLUMNS))
    risk = pd.DataFrame({"account_no": ["C1", "C2"], "risk_probability": [0.834, 0.05], "risk_grade": ["高", "低"]})
    tags = customer_tags(tiny, TINY_PERIOD, rules, extra=risk).to_pandas()
    got = {(r.account_no, r.tag): (r.grade, r.reason) for r in tags.itertuples()}
    assert got == {
        ("C1", "敏感客户"): (None, "近12个月投诉2次"),
        ("C1", "欠费风险"): ("高", "欠费风险高（模型概率83%），近12个月逾期缴费3次"),
        ("C1", "电子渠道偏好"): (None, "近12个月电子渠道缴费占82%"),  # 9 of 11
        ("C1", "光伏用户"): (None, "登记光伏发电用户"),
        ("C1", "老年"): (None, "户主76岁"),
        ("C2", "电子渠道偏好"): (None, "近12个月电子渠道缴费占86%"),  # 6 of 7
        ("C2", "低保"): (None, "登记低保/五保户"),
    }
    assert set(tags.period) == {TINY_PERIOD} and set(tags.rule_version) == {1}
    by_id = {r.id: r for r in rules}
    assert referenced_columns(by_id["arrears_risk"]) == {"risk_grade", "risk_probability", "late_bills_12m"}
    assert referenced_columns(by_id["solar"]) == {"solar"}
    assert set(tags.rule_id) >= {"arrears_risk", "solar", "elderly"}


def test_a_rule_on_columns_that_are_not_there_is_refused_with_its_name(tiny: Dataset) -> None:
    with pytest.raises(RuleError, match=r"^arrears_risk: .*risk_grade"):
        load_rules(DEFAULT_RULES)  # no risk-model table: its columns are absent
    scored = pd.DataFrame({"account_no": ["C1"], "risk_probability": [0.9], "risk_grade": ["高"]})
    assert len(load_rules(DEFAULT_RULES, tag_columns(scored))) == 8  # the columns of the table itself
    with pytest.raises(ValueError, match="clash"):
        customer_tags(tiny, TINY_PERIOD, [], extra=scored.assign(age=1))


@pytest.mark.parametrize(
    ("when", "reason", "refusal"),
    [
        ("contacts_12m >=", "x", "does not parse"),
        ("no_such_column > 1", "x", "unknown column 'no_such_column'"),
        ("len(account_no) > 3", "x", "Call is not allowed"),
        ("account_no.upper() == 'X'", "x", "Call is not allowed"),
        ("__import__('os') and True", "x", "Call is not allowed"),
        ("contacts_12m ** 2 > 3", "x", "BinOp is not allowed"),
        ("age > 'old'", "x", "not comparable"),
        ("contacts_12m + 1", "x", "not true/false"),
        ("age in [age]", "x", "list of constants"),
        ("age > 70", "{nowhere}岁", "unknown column 'nowhere'"),
        ("age > 70", "{age:x}岁", "format 'x'"),
        ("age > 70", "{account_no:%}", "'%' needs a number"),
    ],
)
def test_bad_rules_are_refused_at_load_naming_the_rule(tmp_path: Path, when: str, reason: str, refusal: str) -> None:
    with pytest.raises(RuleError, match=r"^bad_rule: ") as refused:
        load_rules(rules_file(tmp_path, one_rule("bad_rule", when, reason)))
    assert refusal in str(refused.value)


def test_a_bad_grade_and_a_missing_field_are_refused(tmp_path: Path) -> None:
    grades = '    grades:\n      - grade: 高\n        when: "age >>> 3"\n'
    with pytest.raises(RuleError, match="^graded: grade 高"):
        load_rules(rules_file(tmp_path, one_rule("graded", "age > 1", extra=grades)))
    with pytest.raises(RuleError, match="^no_owner: missing owner"):
        load_rules(rules_file(tmp_path, one_rule("no_owner", "age > 1").replace("    owner: 测试组\n", "")))


def test_the_language_and_the_reason_formats(tiny: Dataset, tmp_path: Path) -> None:
    body = one_rule(
        "mixed",
        "not prepaid and (contacts_12m >= 5 or age < 30) and kwh_12m / 12 > 100 and area_code in ['A1'] and 1 < 2",
        "{kwh_12m:.2f}度 {summer_winter_ratio} {max_days_late_12m:.1f} {e_payment_share_12m}",
        extra='    grades:\n      - grade: 甲\n        when: "solar"\n',
    )
    tags = customer_tags(tiny, TINY_PERIOD, load_rules(rules_file(tmp_path, body))).to_pandas()
    assert tags[["account_no", "rule_id", "grade", "reason", "rule_version"]].values.tolist() == [
        ["C1", "mixed", "甲", "1650.00度 1.3 71.0 0.8", 3]
    ]


def test_a_null_value_does_not_tag(tiny: Dataset, tmp_path: Path) -> None:
    rules = load_rules(rules_file(tmp_path, one_rule("r", "not (e_payment_share_12m > 0.5)", "{e_payment_share_12m}")))
    assert customer_tags(tiny, TINY_PERIOD, rules).to_pandas().empty  # C4, C5 never paid: unknown, not tagged


def test_an_empty_period_gives_no_tags(tiny: Dataset) -> None:
    rules = load_rules(DEFAULT_RULES, tag_columns(RISK_COLUMNS))
    risk = pd.DataFrame({"account_no": ["C1"], "risk_probability": [0.9], "risk_grade": ["高"]})
    assert customer_tags(tiny, "2019-01", rules, extra=risk).to_pandas().empty
    assert customer_tags(tiny, TINY_PERIOD, []).to_pandas().empty
    assert tag_history(tiny, ["2019-01", "2019-02"], rules, extra=risk).empty


def test_when_tags_were_gained_and_lost(tiny: Dataset, tmp_path: Path) -> None:
    # C1's complaints: 2025-06-30, 2025-07-01, 2026-03-03 and 2026-07-01, counted over 12 months
    body = one_rule("many_complaints", "complaints_12m >= 3") + one_rule("solar", "solar").replace("rules:\n", "")
    history = tag_history(tiny, span("2026-01", "2026-07"), load_rules(rules_file(tmp_path, body)))
    got = {(r.account_no, r.rule_id): (r.gained_period, r.lost_period) for r in history.itertuples()}
    assert got == {("C1", "many_complaints"): ("2026-03", "2026-06"), ("C1", "solar"): ("2026-01", None)}


def test_history_runs_from_presence() -> None:
    held = pd.DataFrame(
        [("A", p, "t", "标签") for p in ("2026-01", "2026-02", "2026-04")] + [("B", "2026-04", "t", "标签")],
        columns=["account_no", "period", "rule_id", "tag"],
    )
    runs = history_from_presence(held, span("2026-01", "2026-05"))
    assert runs[["account_no", "gained_period", "lost_period"]].values.tolist() == [
        ["A", "2026-01", "2026-03"],
        ["A", "2026-04", "2026-05"],
        ["B", "2026-04", "2026-05"],
    ]


def test_tags_the_same_on_duckdb_and_spark(duck: Dataset, spark: Dataset) -> None:
    rules = load_rules(DEFAULT_RULES, tag_columns(RISK_COLUMNS))
    risk = pd.DataFrame({"account_no": duck["customers"].account_no.to_pandas()})
    risk["risk_probability"] = (risk.index % 100) / 100
    risk["risk_grade"] = pd.cut(risk.risk_probability, [-1, 0.3, 0.6, 2], labels=["低", "中", "高"]).astype(str)
    timings = {}
    results = {}
    for name, ds in (("duckdb", duck), ("spark", spark)):
        t0 = time.perf_counter()
        results[name] = (
            customer_tags(ds, "2026-09", rules, extra=risk).to_pandas(),
            tag_history(ds, ["2026-08", "2026-09"], rules[:2]),
        )
        timings[name] = time.perf_counter() - t0
    print("customer_tags + 2-period tag_history: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    (duck_tags, duck_history), (spark_tags, spark_history) = results["duckdb"], results["spark"]
    assert duck_tags.rule_id.nunique() == len(rules)  # every rule tags someone on the generated history
    same_frame(duck_tags, spark_tags, ["account_no", "rule_id"])
    same_frame(duck_history, spark_history, ["account_no", "rule_id", "gained_period"])


def test_the_tags_the_product_acts_on_are_rules_of_the_shipped_library() -> None:
    """Routing (敏感客户), the voice menu (老年) and the panel (欠费风险) match by the rule's name: a rule renamed in
    tags.yml must fail here, not silently stop the product acting on it."""
    import yaml

    from backend.customer_insight import ARREARS_RISK, ELDERLY, SENSITIVE
    from insight.tag_rules import DEFAULT_RULES

    names = {rule["name"] for rule in yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))["rules"]}
    assert {SENSITIVE, ELDERLY, ARREARS_RISK} <= names, names

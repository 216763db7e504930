"""Customer tags as versioned rules (insight/tags.yml): each rule has an id, a Chinese name, a version, an owner, a
description, a `when` condition over the customer's feature columns (insight.jobs.features) and any extra
per-customer columns (such as the arrears-risk model's risk_probability / risk_grade), optional grades, and a
`reason` template that tells an agent why in a few words ("近12个月来电{contacts_12m}次").

The condition language is a small, safe subset of Python expressions, parsed with `ast` and compiled to Ibis (so a
rule runs on DuckDB and on Spark alike): column names, numbers, strings, True/False, comparisons (== != < <= > >=,
chained, and `in` / `not in` a list of constants), and / or / not, and + - * /. Anything else (calls, attributes,
subscripts…) is refused. A null value makes a comparison unknown, and an unknown condition does not tag.

A rule that does not parse, names a column that is not there, compares values of the wrong types or does not give
a true/false answer is refused when the rules are loaded, with the rule's id in the message.

Tags are computed per period (`customer_tags`), and their history (`tag_history`) says when each was gained and
lost across consecutive periods.
"""

from __future__ import annotations

import ast
import operator
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import yaml
from ibis.expr.types import BooleanValue, StringValue, Table, Value

from insight.engine import Dataset
from insight.jobs.features import customer_features
from insight.schema import TABLES

DEFAULT_RULES = Path(__file__).with_name("tags.yml")
MISSING_VALUE = "-"  # a reason placeholder whose value is null
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class RuleError(ValueError):
    """A tag rule refused at load; the message starts with the rule's id."""


@dataclass(frozen=True)
class Grade:
    label: str
    when: str


@dataclass(frozen=True)
class TagRule:
    id: str
    name: str
    version: int
    owner: str
    description: str
    when: str
    reason: str
    grades: tuple[Grade, ...] = ()


def tag_columns(extra: Table | pd.DataFrame | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The columns a rule may use: the customer features' (name -> Ibis type) and those of `extra`, the optional
    per-customer table (an Ibis table, a DataFrame, or its columns as name -> type)."""
    unbound = {name: ibis.table(ibis.Schema.from_pyarrow(schema), name=name) for name, schema in TABLES.items()}
    columns = dict(customer_features(Dataset("duckdb", None, unbound), "2000-01").schema().items())
    if isinstance(extra, pd.DataFrame):
        extra = ibis.memtable(extra)
    extra_types = dict(extra.schema().items()) if isinstance(extra, Table) else dict(extra or {})
    for name, dtype in extra_types.items():
        if name != "account_no":
            columns[name] = ibis.dtype(dtype)
    return columns


def load_rules(path: Path = DEFAULT_RULES, columns: Mapping[str, Any] | None = None) -> list[TagRule]:
    """The rules of a YAML file, each checked against `columns` (name -> type; default: the features only)."""
    columns = dict(columns) if columns is not None else tag_columns()
    probe = ibis.table(ibis.schema(columns), name="tag_columns")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules: list[TagRule] = []
    for i, entry in enumerate(raw.get("rules") or []):
        rule = _rule_from(entry, i)
        if rule.id in {r.id for r in rules}:
            raise RuleError(f"{rule.id}: defined twice")
        _check(rule, probe)
        rules.append(rule)
    return rules


def customer_tags(
    ds: Dataset, period: str, rules: Sequence[TagRule], extra: Table | pd.DataFrame | None = None
) -> Table:
    """The tags each customer holds at the end of `period`: account_no, period, rule_id, tag, grade (null for an
    ungraded rule), reason, rule_version. `extra` adds per-customer columns joined on account_no."""
    features = customer_features(ds, period)
    if extra is not None:
        extra_table = ibis.memtable(extra) if isinstance(extra, pd.DataFrame) else extra
        clashes = (set(extra_table.columns) & set(features.columns)) - {"account_no"}
        if clashes:
            raise ValueError(f"extra columns {sorted(clashes)} clash with the customer features")
        features = features.left_join(extra_table, "account_no")
    if not rules:
        return features.select(
            "account_no", "period", rule_id=_null_string(), tag=_null_string(), grade=_null_string(),
            reason=_null_string(), rule_version=ibis.null("int64"),
        ).limit(0)  # fmt: skip
    # one pass over the features: every rule's verdict in an array, unnested, the tags that hold kept
    verdicts = ibis.array(
        [
            ibis.struct(
                {
                    "holds": compile_condition(rule.when, features).fill_null(False),
                    "rule_id": ibis.literal(rule.id),
                    "tag": ibis.literal(rule.name),
                    "grade": _grade(rule, features),
                    "reason": compile_reason(rule.reason, features),
                    "rule_version": ibis.literal(rule.version, "int64"),
                }
            )
            for rule in rules
        ]
    )
    long = features.select("account_no", "period", verdict=verdicts).unnest("verdict")
    v = long.verdict
    return long.filter(v["holds"]).select(
        "account_no",
        "period",
        rule_id=v["rule_id"],
        tag=v["tag"],
        grade=v["grade"],
        reason=v["reason"],
        rule_version=v["rule_version"],
    )


def tag_history(
    ds: Dataset, periods: Sequence[str], rules: Sequence[TagRule], extra: Table | pd.DataFrame | None = None
) -> pd.DataFrame:
    """When each customer gained and lost each tag over consecutive `periods` (oldest first): account_no, rule_id,
    tag, gained_period, lost_period (the first period without it again; None while still held). A tag held in the
    first period counts as gained then: the history starts there. `extra` is the same for every period."""
    if not periods:
        return history_from_presence(pd.DataFrame(), periods)
    per_period = [customer_tags(ds, p, rules, extra).select("account_no", "period", "rule_id", "tag") for p in periods]
    held = ibis.union(*per_period, distinct=False) if len(per_period) > 1 else per_period[0]
    return history_from_presence(held.to_pandas(), periods)


def history_from_presence(held: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    """Runs of consecutive periods from rows (account_no, period, rule_id, tag) saying a tag was held then."""
    columns = ["account_no", "rule_id", "tag", "gained_period", "lost_period"]
    if held.empty:
        return pd.DataFrame(columns=columns)
    index = {p: i for i, p in enumerate(periods)}
    held = held.assign(i=held.period.map(index)).sort_values(["account_no", "rule_id", "i"])
    key = [held.account_no, held.rule_id]
    starts_run = held.groupby(key, sort=False).i.diff().ne(1)  # the first row of a group diffs to NaN: a start
    held = held.assign(run=starts_run.cumsum())
    runs = held.groupby("run").agg(
        account_no=("account_no", "first"), rule_id=("rule_id", "first"), tag=("tag", "first"), first=("i", "min"),
        last=("i", "max"),
    )  # fmt: skip
    runs["gained_period"] = [periods[i] for i in runs["first"]]
    runs["lost_period"] = [periods[i + 1] if i + 1 < len(periods) else None for i in runs["last"]]
    return runs[columns].sort_values(["account_no", "rule_id", "gained_period"]).reset_index(drop=True)


def referenced_columns(rule: TagRule) -> frozenset[str]:
    """The columns a (loaded, so valid) rule reads in its condition, grades and reason."""
    names: set[str] = set()
    for text in (rule.when, *(g.when for g in rule.grades)):
        names.update(n.id for n in ast.walk(ast.parse(text.strip(), mode="eval")) if isinstance(n, ast.Name))
    names.update(field for _, field, _, _ in string.Formatter().parse(rule.reason) if field)
    return frozenset(names)


def _rule_from(entry: Any, position: int) -> TagRule:
    if not isinstance(entry, dict) or not entry.get("id"):
        raise RuleError(f"rule #{position + 1}: not a mapping with an id")
    rule_id = str(entry["id"])
    missing = [k for k in ("name", "version", "owner", "description", "when", "reason") if entry.get(k) in (None, "")]
    if missing:
        raise RuleError(f"{rule_id}: missing {', '.join(missing)}")
    grades = []
    for g in entry.get("grades") or []:
        if not isinstance(g, dict) or not g.get("grade") or not g.get("when"):
            raise RuleError(f"{rule_id}: a grade needs `grade` and `when`")
        grades.append(Grade(str(g["grade"]), str(g["when"])))
    try:
        version = int(entry["version"])
    except (TypeError, ValueError):
        raise RuleError(f"{rule_id}: version {entry['version']!r} is not a whole number") from None
    return TagRule(
        rule_id, str(entry["name"]), version, str(entry["owner"]), str(entry["description"]).strip(),
        str(entry["when"]), str(entry["reason"]), tuple(grades),
    )  # fmt: skip


def _check(rule: TagRule, probe: Table) -> None:
    """Compiles every part of the rule against a table with the available columns; refuses it with its id."""
    for label, text in [("when", rule.when), *((f"grade {g.label}", g.when) for g in rule.grades)]:
        try:
            compiled = compile_condition(text, probe)
        except RuleError as e:
            raise RuleError(f"{rule.id}: {label} {text!r}: {e}") from None
        except Exception as e:  # noqa: BLE001 - Ibis refuses ill-typed operations with several error types
            raise RuleError(f"{rule.id}: {label} {text!r}: {type(e).__name__}: {e}") from None
        if not compiled.type().is_boolean():
            raise RuleError(f"{rule.id}: {label} {text!r} is {compiled.type()}, not true/false")
    try:
        compile_reason(rule.reason, probe)
    except RuleError as e:
        raise RuleError(f"{rule.id}: reason {rule.reason!r}: {e}") from None


def compile_condition(text: str, table: Table) -> BooleanValue:
    """A condition of the rule language over `table`'s columns as an Ibis expression; RuleError if refused."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise RuleError(f"does not parse ({e.msg})") from None
    result: BooleanValue = _compile(tree.body, table)
    return result


def _compile(node: ast.AST, table: Table) -> Any:
    if isinstance(node, ast.BoolOp):
        values = [_compile(v, table) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_compile(node.operand, table)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_compile(node.operand, table)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_compile(node.left, table), _compile(node.right, table))
    if isinstance(node, ast.Compare):
        return _compare(node, table)
    if isinstance(node, ast.Name):
        if node.id not in table.columns:
            raise RuleError(f"unknown column {node.id!r}")
        return table[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
        return ibis.literal(node.value)
    raise RuleError(f"{type(node).__name__} is not allowed ({ast.unparse(node)!r})")


def _compare(node: ast.Compare, table: Table) -> Any:
    left, out = _compile(node.left, table), None
    for op, right_node in zip(node.ops, node.comparators):
        if isinstance(op, ast.In | ast.NotIn):
            options = _constants(right_node)
            step = left.isin(options) if isinstance(op, ast.In) else left.notin(options)
            right = None
        elif type(op) in _COMPARISONS:
            right = _compile(right_node, table)
            step = _COMPARISONS[type(op)](left, right)
        else:
            raise RuleError(f"{type(op).__name__} is not allowed")
        out = step if out is None else out & step
        left = right
    return out


def _constants(node: ast.AST) -> list[Any]:
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, int | float | str) for e in node.elts
    ):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    raise RuleError(f"`in` takes a list of constants, not {ast.unparse(node)!r}")


def _grade(rule: TagRule, table: Table) -> StringValue:
    if not rule.grades:
        return _null_string()
    cases = [(compile_condition(g.when, table).fill_null(False), g.label) for g in rule.grades]
    graded: StringValue = ibis.cases(*cases, else_=_null_string())
    return graded


def compile_reason(template: str, table: Table) -> StringValue:
    """The template with each {column} or {column:spec} filled from the row: spec '' (as is; a fraction with one
    decimal), '%' (a share as a whole percentage) or '.Nf' (N = 0..3 decimals). Exact on every engine: numbers are
    rounded to integers before they become text."""
    out: StringValue = ibis.literal("")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise RuleError(f"template does not parse ({e})") from None
    for literal, field, spec, conversion in parts:
        if literal:
            out = out + literal
        if field is None:
            continue
        if conversion or not field.isidentifier():
            raise RuleError(f"placeholder {{{field}}} must be a bare column name")
        if field not in table.columns:
            raise RuleError(f"unknown column {field!r}")
        out = out + _as_text(table[field], spec or "").fill_null(MISSING_VALUE)
    return out


def _as_text(value: Value, spec: str) -> StringValue:
    dtype = value.type()
    if spec == "%":
        if not dtype.is_numeric():
            raise RuleError(f"'%' needs a number, {value.get_name()} is {dtype}")
        return (value * 100).round().cast("int64").cast("string") + "%"
    decimals = None
    if spec.startswith(".") and spec.endswith("f") and spec[1:-1] in ("0", "1", "2", "3"):
        decimals = int(spec[1:-1])
    elif spec:
        raise RuleError(f"format {spec!r} is not one of '', '%', '.0f' .. '.3f'")
    if dtype.is_floating() or (decimals is not None and dtype.is_numeric()):
        return _fixed(value, 1 if decimals is None else decimals)
    if decimals is not None:
        raise RuleError(f"{spec!r} needs a number, {value.get_name()} is {dtype}")
    text: StringValue = value.cast("string")
    return text


def _fixed(value: Any, decimals: int) -> StringValue:
    scaled = (value.abs() * 10**decimals).round().cast("int64")
    sign = (value < 0).ifelse("-", "")
    whole = (scaled // 10**decimals).cast("int64").cast("string")
    if decimals == 0:
        text: StringValue = sign + whole
        return text
    fraction = (scaled % 10**decimals).cast("string").lpad(decimals, "0")
    return sign + whole + "." + fraction


def _null_string() -> StringValue:
    null: StringValue = ibis.null("string")
    return null

"""The arrears-risk model: a depth-limited decision tree over `insight.jobs.risk_features`, its file (a JSON header with
the feature schema, then the tree), the store that keeps the last good model, and scoring with a grade and the
tree path in Chinese for the agent.

Grades: 高 = about the top 5 % of the training customers by probability, 中 = about the next 15 %, 低 the rest;
the cut-offs are probabilities fixed at training (`RiskModel.thresholds`, in the header) so a month with more
risk has more 高. 高 customers get a reminder through the notification interface (notices.triggers.remind_risk).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from insight.jobs.risk_features import FEATURES, LABEL

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

MAGIC = b"P95598-ARREARS-RISK\n"
FORMAT_VERSION = 1
HIGH, MEDIUM, LOW = "高", "中", "低"
GRADE_SHARES = {HIGH: 0.05, MEDIUM: 0.20}  # cumulative share of training customers at or above each grade
# Candidate tree sizes: (max depth, smallest leaf as a share of the examples); `train` picks one by log loss on its
# latest target period, so a small history gets a small tree. Leaves never under MIN_LEAF examples.
TREE_CANDIDATES = ((3, 0.01), (4, 0.005), (5, 0.005), (6, 0.003), (8, 0.002))
MIN_LEAF = 30

# Chinese label, kind (flag: 是/否; count: whole numbers; days, yuan, percent, ratio) of each feature: the only
# place the agent-facing names live.
LABELS: dict[str, tuple[str, str]] = {
    "arrears_last": ("最近一期欠费", "flag"),
    "unpaid_last_due": ("最近到期账单未缴", "flag"),
    "days_late_last": ("最近到期账单逾期天数", "days"),
    "arrears_3m": ("近3个月欠费次数", "count"),
    "arrears_6m": ("近6个月欠费次数", "count"),
    "arrears_12m": ("近12个月欠费次数", "count"),
    "arrears_24m": ("近24个月欠费次数", "count"),
    "unpaid_6m": ("近6个月过期未缴账单数", "count"),
    "partial_6m": ("近6个月部分缴费账单数", "count"),
    "days_late_mean": ("平均逾期天数", "days"),
    "days_late_max": ("最长逾期天数", "days"),
    "days_late_trend": ("近6个月逾期天数增幅", "days"),
    "unpaid_amount": ("未缴欠费", "yuan"),
    "echannel_share": ("线上缴费占比", "percent"),
    "kwh_change": ("近3个月用电量同比变化", "percent"),
    "kwh_change_1m": ("上月用电量同比变化", "percent"),
    "bill_amount": ("近3个月月均电费", "yuan"),
    "amount_ratio": ("近期电费与平时之比", "ratio"),
    "months_billed": ("出账月数", "count"),
    "prepaid": ("预付费", "flag"),
    "low_income": ("低保/五保户", "flag"),
    "contacts_bill_6m": ("近6个月电费咨询次数", "count"),
    "contacts_arrears_6m": ("近6个月欠费/余额来电次数", "count"),
}


class ModelRefused(Exception):
    """A model file that is not one, is damaged, or was built on another feature schema."""


@dataclass
class RiskModel:
    tree: Any  # sklearn.tree.DecisionTreeClassifier fitted on a DataFrame of `features`
    features: tuple[str, ...]
    training_periods: list[str]
    thresholds: dict[str, float]  # grade -> lowest probability of that grade (高, 中)
    baseline_rates: dict[str, float]  # P(arrears next | arrears_last = "0" / "1") on the training examples
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    created_at: str = ""

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": "arrears_risk_tree",
            "version": self.version,
            "created_at": self.created_at,
            "features": list(self.features),
            "training_periods": self.training_periods,
            "thresholds": self.thresholds,
            "baseline_rates": self.baseline_rates,
            "metrics": self.metrics,
            "tree": {
                "depth": int(self.tree.get_depth()),
                "leaves": int(self.tree.get_n_leaves()),
                "max_depth": self.tree.max_depth,
                "min_samples_leaf": self.tree.min_samples_leaf,
            },
        }

    def probability(self, examples: pd.DataFrame) -> npt.NDArray[Any]:
        return np.asarray(self.tree.predict_proba(examples[list(self.features)])[:, 1], dtype=float)

    def baseline_probability(self, examples: pd.DataFrame) -> npt.NDArray[Any]:
        last = examples["arrears_last"].to_numpy() > 0.5
        return np.where(last, self.baseline_rates["1"], self.baseline_rates["0"])


def train(examples: pd.DataFrame, periods: Sequence[str], features: tuple[str, ...] = FEATURES) -> RiskModel:
    """A tree on labelled examples (rows with a null label are dropped). No class weights: the leaves' shares are
    then the probabilities (calibration); the ranking (AUC, top 5 %) does not need them."""
    from sklearn.tree import DecisionTreeClassifier

    data = examples[examples[LABEL].notna()]
    if data.empty:
        raise ValueError("no labelled examples to train on")
    y = data[LABEL].astype(bool).to_numpy()
    x = data[list(features)].astype(float)
    depth, share = _choose_size(x, y, data["target_period"].to_numpy())
    leaf = max(MIN_LEAF, int(len(data) * share))
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf, random_state=0).fit(x, y)
    last = data["arrears_last"].to_numpy() > 0.5
    rates = {k: float(y[last == v].mean()) if (last == v).any() else float(y.mean()) for k, v in (("0", 0), ("1", 1))}
    now = dt.datetime.now(dt.timezone.utc)
    model = RiskModel(
        tree, features, sorted(periods), {}, rates, version=now.strftime("%Y%m%dT%H%M%S"), created_at=now.isoformat()
    )
    model.thresholds = _grade_thresholds(model.probability(data))
    return model


def _choose_size(x: pd.DataFrame, y: npt.NDArray[Any], periods: npt.NDArray[Any]) -> tuple[int, float]:
    """The candidate size with the least log loss on the latest period when trained on the earlier ones (the
    middle candidate when there is a single period)."""
    from sklearn.metrics import log_loss
    from sklearn.tree import DecisionTreeClassifier

    latest = periods == max(periods)
    if latest.all() or y[~latest].all() or not y[~latest].any():
        return TREE_CANDIDATES[len(TREE_CANDIDATES) // 2]
    losses = []
    for depth, share in TREE_CANDIDATES:
        leaf = max(MIN_LEAF, int((~latest).sum() * share))
        tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf, random_state=0)
        tree.fit(x[~latest], y[~latest])
        losses.append(log_loss(y[latest], tree.predict_proba(x[latest])[:, 1], labels=[False, True]))
    return TREE_CANDIDATES[int(np.argmin(losses))]


def _grade_thresholds(p: npt.NDArray[Any]) -> dict[str, float]:
    """Per grade, the leaf probability whose share of customers at or above it is nearest the grade's share (a tree
    scores in steps, so a leaf is never split between grades)."""
    values = np.unique(p)[::-1]
    at_or_above = np.array([(p >= v).mean() for v in values])
    out: dict[str, float] = {}
    for grade, share in GRADE_SHARES.items():
        out[grade] = float(values[int(np.argmin(np.abs(at_or_above - share)))])
    out[MEDIUM] = min(out[MEDIUM], out[HIGH])
    return out


def grade_of(model: RiskModel, p: float) -> str:
    if p >= model.thresholds[HIGH]:
        return HIGH
    return MEDIUM if p >= model.thresholds[MEDIUM] else LOW


# ---- the file: MAGIC, one line of JSON header, then the pickled tree -------------------------------------------


def save(model: RiskModel, path: Path) -> Path:
    payload = pickle.dumps(model.tree, protocol=pickle.HIGHEST_PROTOCOL)
    head = {**model.header(), "payload_sha256": hashlib.sha256(payload).hexdigest(), "payload_bytes": len(payload)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(MAGIC + json.dumps(head, ensure_ascii=False).encode() + b"\n" + payload)
    os.replace(tmp, path)
    return path


def read_header(path: Path) -> dict[str, Any]:
    head, _ = _split(path.read_bytes(), str(path))
    return head


def load_model(path: Path, expected_features: Sequence[str] = FEATURES) -> RiskModel:
    """The model in `path`, refused (ModelRefused) unless its feature schema is `expected_features` (names and
    order) and its tree is intact. The file is trusted code (pickle): only load what our training wrote; the
    checksum catches damage, not malice."""
    return _read_checked(path, expected_features)[0]


def _read_checked(path: Path, expected_features: Sequence[str]) -> tuple[RiskModel, bytes]:
    """The model and the very bytes it was read from (read once: what is checked is what a store keeps)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ModelRefused(f"{path}: cannot be read ({e})") from e
    return _model_from(raw, str(path), expected_features), raw


def _model_from(raw: bytes, path: str, expected_features: Sequence[str]) -> RiskModel:
    head, payload = _split(raw, path)
    features = tuple(head.get("features") or ())
    if features != tuple(expected_features):
        missing = [f for f in expected_features if f not in features]
        extra = [f for f in features if f not in expected_features]
        detail = f"missing {missing}, unknown {extra}" if missing or extra else "same names in another order"
        raise ModelRefused(f"{path}: feature schema differs from this code's ({detail})")
    if hashlib.sha256(payload).hexdigest() != head.get("payload_sha256"):
        raise ModelRefused(f"{path}: the tree does not match its checksum (damaged file)")
    try:
        tree = pickle.loads(payload)  # our own file, checksum verified
    except Exception as e:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise ModelRefused(f"{path}: the tree cannot be read ({e})") from e
    names = tuple(getattr(tree, "feature_names_in_", ()))
    if names != features or not hasattr(tree, "predict_proba"):
        raise ModelRefused(f"{path}: the tree was fitted on other features than its header says")
    try:
        return RiskModel(
            tree,
            features,
            list(head["training_periods"]),
            {k: float(v) for k, v in head["thresholds"].items()},
            {k: float(v) for k, v in head["baseline_rates"].items()},
            dict(head.get("metrics") or {}),
            str(head.get("version", "")),
            str(head.get("created_at", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelRefused(f"{path}: incomplete header ({e!r})") from e


def _split(raw: bytes, path: str) -> tuple[dict[str, Any], bytes]:
    if not raw.startswith(MAGIC):
        raise ModelRefused(f"{path}: not an arrears-risk model file")
    line, sep, payload = raw[len(MAGIC) :].partition(b"\n")
    try:
        head = json.loads(line) if sep else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT_VERSION:
        raise ModelRefused(f"{path}: unreadable header or unknown format")
    return head, payload


class ModelStore:
    """A directory of model files and the name of the active one (ACTIVE, replaced atomically). `activate` checks
    a candidate first: refused, it raises and the active model stays what it was."""

    def __init__(self, directory: Path, expected_features: Sequence[str] = FEATURES) -> None:
        self.directory = directory
        self.expected = tuple(expected_features)
        (directory / "models").mkdir(parents=True, exist_ok=True)

    @property
    def _pointer(self) -> Path:
        return self.directory / "ACTIVE"

    def active_path(self) -> Path | None:
        if not self._pointer.exists():
            return None
        return self.directory / "models" / self._pointer.read_text().strip()

    def active(self) -> RiskModel | None:
        path = self.active_path()
        return None if path is None else load_model(path, self.expected)

    def activate(self, candidate: Path | RiskModel) -> RiskModel:
        if isinstance(candidate, RiskModel):
            candidate = save(candidate, self.directory / "incoming" / f"{candidate.version or 'model'}.model")
        try:
            model, raw = _read_checked(candidate, self.expected)
        except ModelRefused as e:
            log.error("risk model refused, keeping %s: %s", self.active_path(), e)
            raise
        name = f"{model.version or 'model'}-{hashlib.sha256(raw).hexdigest()[:12]}.model"
        target = self.directory / "models" / name
        if not target.exists():
            tmp = target.with_name(name + ".tmp")
            tmp.write_bytes(raw)
            os.replace(tmp, target)
        tmp = self._pointer.with_name("ACTIVE.tmp")
        tmp.write_text(name + "\n")
        os.replace(tmp, self._pointer)
        return model


# ---- scoring and the path an agent reads -----------------------------------------------------------------------


def score(model: RiskModel, examples: pd.DataFrame | Any) -> pd.DataFrame:
    """account_no, risk_probability, risk_grade (高/中/低), risk_path per example (a pandas frame or an Ibis table
    from `risk_examples`)."""
    frame = examples if isinstance(examples, pd.DataFrame) else examples.to_pandas()
    if frame.empty:
        return pd.DataFrame({"account_no": [], "risk_probability": [], "risk_grade": [], "risk_path": []})
    x = frame[list(model.features)].astype(float)
    p = model.probability(frame)
    paths = model.tree.decision_path(x)
    grades = [grade_of(model, float(v)) for v in p]
    texts = [
        explain(model, x.iloc[i].to_numpy(), paths.indices[paths.indptr[i] : paths.indptr[i + 1]], grades[i], p[i])
        for i in range(len(frame))
    ]
    return pd.DataFrame(
        {"account_no": frame["account_no"].to_numpy(), "risk_probability": p, "risk_grade": grades, "risk_path": texts}
    )


def explain(model: RiskModel, x: npt.NDArray[Any], nodes: Sequence[int], grade: str, p: float) -> str:
    """The decision path in short Chinese: the tests met on the way to the leaf, one per feature (the tightest
    bounds when a feature is tested twice), then the grade and the leaf's probability."""
    t = model.tree.tree_
    bounds: dict[int, list[float | None]] = {}  # feature -> [lower (exclusive), upper (inclusive)]
    for node in nodes:
        f = int(t.feature[node])
        if t.children_left[node] == t.children_right[node]:  # the leaf
            continue
        thr = float(t.threshold[node])
        lo, hi = bounds.setdefault(f, [None, None])
        if x[f] <= thr:
            bounds[f][1] = thr if hi is None else min(hi, thr)
        else:
            bounds[f][0] = thr if lo is None else max(lo, thr)
    steps = [condition(model.features[f], lo, hi) for f, (lo, hi) in bounds.items()]
    return " → ".join([*steps, f"{grade}风险 ({p:.0%})"])


def condition(feature: str, lo: float | None, hi: float | None) -> str:
    """One feature's bounds as an agent reads them: lo < value <= hi, either side open."""
    label, kind = LABELS[feature]
    if kind == "flag":
        return f"{label} = {'是' if lo is not None else '否'}"
    if kind == "count":  # whole numbers: > 1.5 reads >= 2
        low = None if lo is None else int(np.floor(lo)) + 1
        high = None if hi is None else int(np.floor(hi))
        if low is not None and high is not None:
            return f"{label} = {low}" if low == high else f"{label} {low}–{high}"
        if high == 0:
            return f"{label} = 0"
        return f"{label} ≥ {low}" if low is not None else f"{label} ≤ {high}"
    parts = []
    if lo is not None:
        parts.append(f"> {number(kind, lo)}")
    if hi is not None:
        parts.append(f"≤ {number(kind, hi)}")
    return f"{label} {' 且 '.join(parts)}"


def number(kind: str, v: float) -> str:
    if kind == "percent":
        return f"{v * 100:.0f}%"
    if kind == "days":  # whole days; a negative lateness is a payment before the due date
        days = int(np.floor(abs(v) + 0.5))
        return f"提前{days}天" if v < 0 and days else f"{days}天"
    if kind == "yuan":
        return f"{v:.2f}元"
    return f"{v:.2f}"


def risk_rows(model: RiskModel, scored: pd.DataFrame, target_period: str) -> list[dict[str, Any]]:
    """`score`'s rows as insight.publish takes them (RunResults.risk)."""
    return [
        {
            "account_no": r.account_no,
            "period": target_period,
            "probability": float(r.risk_probability),
            "grade": r.risk_grade,
            "path": r.risk_path,
            "model_version": model.version,
        }
        for r in scored.itertuples()
    ]

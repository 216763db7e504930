"""How good the arrears-risk tree is, beside the baseline "the latest known bill was in arrears": on customers
never seen in training (a random 30 %) and on a later time window (the next 3 target periods after training).

Training for the later window uses only periods whose labels were known when the window's first features were
taken, as it would be in production (a label is known 15 days after its bill's due date).

    python -m insight.risk_eval HISTORY_DIR [--engine spark] [--save STORE_DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pandas as pd

from insight.engine import Dataset, Engine, open_dataset
from insight.jobs.risk_features import LABEL, data_horizon, features_as_of, risk_examples
from insight.periods import ARREARS_GRACE_DAYS, shift
from insight.risk import ModelStore, RiskModel, train

TOP_SHARE = 0.05
HOLDOUT_SHARE = 0.30
LATER_PERIODS = 3


def auc(y: npt.NDArray[Any], p: npt.NDArray[Any]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def precision_at(y: npt.NDArray[Any], p: npt.NDArray[Any], share: float = TOP_SHARE) -> float:
    """Precision of the top `share` by score, ties at the cut counted at their own rate (what a random pick among
    them would give): fair to a score with few distinct values, like the baseline's two."""
    k = max(1, int(round(share * len(y))))
    order = np.argsort(-p, kind="stable")
    cut = p[order[k - 1]]
    above = p > cut
    tied = p == cut
    hits = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(hits / k)


def deciles(y: npt.NDArray[Any], p: npt.NDArray[Any]) -> pd.DataFrame:
    """Calibration table: ten groups by predicted probability (1 = highest), equal in size except that equal
    probabilities stay in one group (a tree leaf, or the baseline's two values, is never split)."""
    rank = pd.Series(-p).rank(method="average").to_numpy()
    group = np.clip(np.ceil(rank * 10 / max(len(p), 1)), 1, 10).astype(int)
    frame = pd.DataFrame({"decile": group, "predicted": p, "observed": y.astype(float)})
    return frame.groupby("decile").agg(
        n=("observed", "size"), predicted=("predicted", "mean"), observed=("observed", "mean")
    )


def ece(y: npt.NDArray[Any], p: npt.NDArray[Any]) -> float:
    """Expected calibration error over the deciles: the mean |predicted - observed|, weighted by size."""
    table = deciles(y, p)
    return float((table.n * (table.predicted - table.observed).abs()).sum() / table.n.sum())


def measure(model: RiskModel, examples: pd.DataFrame) -> dict[str, Any]:
    """AUC, precision at the top 5 %, ECE and the decile table of the tree and of the baseline on `examples`."""
    data = examples[examples[LABEL].notna()]
    y = data[LABEL].astype(bool).to_numpy()
    out: dict[str, Any] = {"n": int(len(y)), "arrears_rate": float(y.mean()) if len(y) else float("nan")}
    for name, p in (("tree", model.probability(data)), ("baseline", model.baseline_probability(data))):
        out[name] = {
            "auc": auc(y, p),
            "precision_top5": precision_at(y, p),
            "ece": ece(y, p),
            "deciles": deciles(y, p).reset_index().round(4).to_dict("records"),
        }
    return out


def labelled_periods(ds: Dataset, min_history_months: int = 12) -> list[tuple[str, dt.date]]:
    """(target period, the day its label became known) for every period with at least `min_history_months` of
    data before it and every bill's grace over by the dataset's horizon."""
    bills = ds["bills"]
    per = bills.group_by("period").aggregate(last_due=bills.due_date.max()).to_pandas().sort_values("period")
    horizon = data_horizon(ds)
    if per.empty or horizon is None:
        return []
    first = str(per.period.iloc[0])
    out = []
    for row in per.itertuples():
        known = pd.Timestamp(row.last_due).date() + dt.timedelta(days=ARREARS_GRACE_DAYS)
        if shift(str(row.period), -min_history_months) >= first and known <= horizon:
            out.append((str(row.period), known))
    return out


def examples_for(ds: Dataset, periods: list[str], history_months: int = 24) -> pd.DataFrame:
    """The examples of `periods` in one query, in a fixed order (engines return rows in their own order, and the
    tree and the deciles' tie-breaking should not depend on it)."""
    if not periods:
        return pd.DataFrame()
    tables = [risk_examples(ds, p, history_months) for p in periods]
    frame = ibis.union(*tables).to_pandas() if len(tables) > 1 else tables[0].to_pandas()
    return frame.sort_values(["target_period", "account_no"], ignore_index=True)


def evaluate(
    ds: Dataset, history_months: int = 24, seed: int = 7, min_history_months: int = 12
) -> tuple[RiskModel, dict[str, Any]]:
    """Trains on 70 % of the customers over the periods known before the later window, and measures on the other
    30 % (same periods) and on the later window (all customers, and the held-out ones alone)."""
    periods = labelled_periods(ds, min_history_months)
    if len(periods) < LATER_PERIODS + 1:
        raise ValueError(f"{len(periods)} labelled target periods: need more than {LATER_PERIODS}")
    later = [p for p, _ in periods[-LATER_PERIODS:]]
    window_start = features_as_of(later[0])
    training = [p for p, known in periods[:-LATER_PERIODS] if known <= window_start]
    if not training:
        raise ValueError(f"no target period's label was known by {window_start}")
    frame = examples_for(ds, training + later, history_months)
    accounts = np.sort(frame.account_no.unique())
    rng = np.random.default_rng(seed)
    held = set(rng.choice(accounts, int(round(HOLDOUT_SHARE * len(accounts))), replace=False))
    is_held = frame.account_no.isin(held)
    in_training = frame.target_period.isin(training)
    model = train(frame[in_training & ~is_held], training)
    in_later = frame.target_period.isin(later)
    results: dict[str, Any] = {
        "engine": ds.engine,
        "training_periods": training,
        "later_periods": later,
        "customers": int(len(accounts)),
        "held_out_customers": len(held),
        "thresholds": model.thresholds,
        "tree": {"depth": int(model.tree.get_depth()), "leaves": int(model.tree.get_n_leaves())},
        "train": measure(model, frame[in_training & ~is_held]),
        "held_out": measure(model, frame[in_training & is_held]),
        "later": measure(model, frame[in_later]),
        "later_held_out": measure(model, frame[in_later & is_held]),
    }
    model.metrics = {k: _headline(results[k]) for k in ("held_out", "later")}
    return model, results


def train_and_evaluate(history_dir: Path, engine: Engine = "duckdb", save_to: Path | None = None) -> dict[str, Any]:
    """The benchmark's entry: evaluate on `history_dir` and, given a store directory, activate the model there."""
    model, results = evaluate(open_dataset(history_dir, engine))
    if save_to is not None:
        store = ModelStore(save_to)
        store.activate(model)
        results["model_path"] = str(store.active_path())
    return results


def _headline(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "n": m["n"],
        **{f"{who}_{k}": round(m[who][k], 4) for who in ("tree", "baseline") for k in ("auc", "precision_top5", "ece")},
    }


def table(results: dict[str, Any]) -> str:
    lines = [f"{'':22}{'model':10}{'AUC':>8}{'P@5%':>8}{'ECE':>8}{'n':>9}{'arrears':>9}"]
    for key, name in (("held_out", "held-out customers"), ("later", "later window"), ("later_held_out", "  held-out")):
        m = results[key]
        for who in ("tree", "baseline"):
            r = m[who]
            lines.append(
                f"{name if who == 'tree' else '':22}{who:10}{r['auc']:8.3f}{r['precision_top5']:8.3f}{r['ece']:8.3f}"
                + (f"{m['n']:9d}{m['arrears_rate']:9.3f}" if who == "tree" else "")
            )
    lines.append(f"trained on {', '.join(results['training_periods'])}; later {', '.join(results['later_periods'])}")
    lines.append(f"grades: 高 p >= {results['thresholds']['高']:.3f}, 中 p >= {results['thresholds']['中']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insight.risk_eval", description=__doc__.splitlines()[0])
    parser.add_argument("history_dir", type=Path)
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--save", type=Path, help="a model store directory to activate the model in")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results = train_and_evaluate(args.history_dir, args.engine, args.save)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

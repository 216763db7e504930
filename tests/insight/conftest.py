"""Shared insight fixtures: one small generated history per test session, opened on DuckDB and on Spark (local
mode), and `same_frame` to compare a job's results from both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from insight.engine import ENGINES, Dataset, open_dataset

SMALL: dict[str, Any] = {"customers": 2_000, "months": 36, "seed": 7, "end_period": "2026-10"}


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: Any) -> Path:
    from insight.generate import generate

    out = tmp_path_factory.mktemp("insight_history")
    generate(out, **SMALL)
    return Path(out)


@pytest.fixture(scope="session")
def duck(history_dir: Path) -> Dataset:
    return open_dataset(history_dir, "duckdb")


@pytest.fixture(scope="session")
def spark(history_dir: Path) -> Dataset:
    return open_dataset(history_dir, "spark")


@pytest.fixture(scope="session", params=ENGINES)
def dataset(request: Any, history_dir: Path) -> Dataset:
    return open_dataset(history_dir, request.param)


def same_frame(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], rtol: float = 1e-9) -> None:
    """The same rows and values from two engines, whatever the order and the engine's integer/float widths."""
    assert sorted(a.columns) == sorted(b.columns), (list(a.columns), list(b.columns))
    assert len(a) == len(b), (len(a), len(b))
    cols = sorted(a.columns)
    a = a[cols].sort_values(keys).reset_index(drop=True)
    b = b[cols].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=rtol)

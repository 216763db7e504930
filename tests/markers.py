"""The kind of each test, marked from where it lives and what it uses (`pytest -m unit` is the quick run), and CI's
rule that the scale and browser tests must really run: with CI=true their skips fail the run.

    scale    tests/scale/, and the PostgreSQL variant of a back-end test (a fixture parameter "postgresql")
    browser  uses the `browser` fixture (Playwright driving Debian chromium)
    spark    runs an insight job on Apache Spark (local mode): the `spark` fixture or a dataset on the spark engine
    stack    uses the `stack` fixture (the whole product on free ports), directly or through another fixture
    unit     everything else

Loaded by tests/conftest.py (`pytest_plugins`); the markers are registered here, not in pyproject.toml."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

KINDS = {
    "unit": "no servers; seconds (every test not marked otherwise)",
    "stack": "starts the product (Rasa, actions, knowledge, console) through the `stack` fixture",
    "scale": "needs PostgreSQL, Redis and RabbitMQ; may not be skipped when CI=true",
    "browser": "drives Debian chromium through Playwright; may not be skipped when CI=true",
    "spark": "runs an insight job on Apache Spark in local mode (Java 17); may not be skipped when CI=true",
}
MUST_RUN_IN_CI = ("scale", "browser", "spark")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def is_scale_path(path: Path, rootpath: Path) -> bool:
    return (rootpath / "tests" / "scale") in path.parents


def kinds_of(item: pytest.Item) -> list[str]:
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    kinds = []
    if is_scale_path(item.path, item.config.rootpath) or "postgresql" in params:
        kinds.append("scale")
    if "browser" in fixtures:
        kinds.append("browser")
    if "stack" in fixtures:
        kinds.append("stack")
    if "spark" in fixtures or "spark" in params:
        kinds.append("spark")
    return kinds


def pytest_configure(config: pytest.Config) -> None:
    for kind, meaning in KINDS.items():
        config.addinivalue_line("markers", f"{kind}: {meaning}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marked = {m.name for m in item.iter_markers()} & KINDS.keys()
        for kind in kinds_of(item) or ([] if marked else ["unit"]):
            if kind not in marked:
                item.add_marker(kind)


def _ci_failure(reason: str, what: str) -> str:
    return (
        f"{what} was skipped, and CI=true forbids that: CI must provide what it needs "
        f"(PostgreSQL, Redis and RabbitMQ for scale tests, chromium for browser tests). Skip reason: {reason}"
    )


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        must = [k for k in MUST_RUN_IN_CI if item.get_closest_marker(k) is not None]
        if must:
            report.outcome = "failed"
            report.longrepr = _ci_failure(_skip_reason(report), f"this {'/'.join(must)} test")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A whole module under tests/scale skipped at import (e.g. pytest.importorskip) fails as well."""
    report = yield
    if in_ci() and report.skipped and is_scale_path(collector.path, collector.config.rootpath):
        report.outcome = "failed"
        report.longrepr = _ci_failure(_skip_reason(report), f"the scale module {collector.nodeid}")
    return report

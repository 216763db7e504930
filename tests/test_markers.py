"""tests/markers.py in a small project of its own (pytester): each test gets its kind, and with CI=true a skipped
scale or browser test fails the run while other skips stay skips."""

from __future__ import annotations

import pytest

CONFTEST = 'pytest_plugins = ["tests.markers"]\n'

SCALE_TEST = """
import pytest

def test_needs_the_scale_services():
    pytest.skip("scale profile needs PostgreSQL")
"""

OTHER_TESTS = """
import pytest

@pytest.fixture
def browser():
    pytest.skip("Debian chromium not installed")

@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request):
    if request.param == "postgresql":
        pytest.skip("PostgreSQL not reachable")
    return request.param

@pytest.fixture
def stack():
    return "the product on free ports"

@pytest.fixture
def conversation(stack):
    return stack

def test_in_a_browser(browser):
    pass

def test_a_chat(conversation):
    pass

def test_on_both_back_ends(sessions):
    pass

def test_an_optional_tool():
    pytest.skip("hadolint not installed")

def test_plain():
    pass
"""

MODULE_SKIPPED_AT_IMPORT = """
import pytest
pytest.importorskip("no_such_broker_client")

def test_never_collected():
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\naddopts = '--strict-markers'\n")
    pytester.makeconftest(CONFTEST)
    (pytester.path / "tests" / "scale").mkdir(parents=True)
    (pytester.path / "tests" / "scale" / "test_durable.py").write_text(SCALE_TEST)
    (pytester.path / "tests" / "test_things.py").write_text(OTHER_TESTS)
    return pytester


def test_outside_ci_missing_services_are_plain_skips(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    project.runpytest().assert_outcomes(passed=3, skipped=4)


def test_in_ci_a_skipped_scale_or_browser_test_fails_with_the_reason(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = project.runpytest("-rfEs")
    # a skip in the test fails it, a skip in a fixture is an error at setup; only the optional tool stays skipped
    result.assert_outcomes(passed=3, failed=1, errors=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "FAILED tests/scale/test_durable.py::test_needs_the_scale_services*",
            "ERROR tests/test_things.py::test_in_a_browser*",
            "ERROR tests/test_things.py::test_on_both_back_ends?postgresql?*",
            "SKIPPED*hadolint not installed*",
        ],
        consecutive=False,
    )
    assert "CI=true forbids that" in result.stdout.str()
    assert "Skip reason: scale profile needs PostgreSQL" in result.stdout.str()


def test_in_ci_a_scale_module_skipped_at_import_fails(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.path / "tests" / "scale" / "test_broker.py").write_text(MODULE_SKIPPED_AT_IMPORT)
    monkeypatch.delenv("CI", raising=False)
    project.runpytest("tests/scale/test_broker.py").assert_outcomes(skipped=1)
    monkeypatch.setenv("CI", "true")
    project.runpytest("tests/scale/test_broker.py").assert_outcomes(errors=1)


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("unit", ["test_on_both_back_ends[sqlite]", "test_an_optional_tool", "test_plain"]),
        ("scale", ["test_needs_the_scale_services", "test_on_both_back_ends[postgresql]"]),
        ("browser", ["test_in_a_browser"]),
        ("stack", ["test_a_chat"]),
    ],
)
def test_each_test_gets_its_kind(project: pytest.Pytester, expression: str, selected: list[str]) -> None:
    result = project.runpytest("--collect-only", "-q", "-m", expression)
    collected = [line.split("::")[-1] for line in result.stdout.lines if "::" in line]
    assert sorted(collected) == sorted(selected)

"""Test doubles and simulators live in voice/testing/ and tests/ only, and the product never imports them (read from
the import statements with ast, nothing imported)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("actions", "analytics", "backend", "channels", "console", "knowledge", "nlu", "scripts", "voice")
DOUBLES = ("voice.testing", "tests")


def product_files() -> list[Path]:
    testing = ROOT / "voice" / "testing"
    return [p for package in PRODUCT for p in sorted((ROOT / package).rglob("*.py")) if testing not in p.parents]


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update([node.module, *(f"{node.module}.{alias.name}" for alias in node.names)])
    return names


def is_double(name: str) -> bool:
    return any(name == double or name.startswith(f"{double}.") for double in DOUBLES)


def test_the_product_never_imports_a_test_double() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_names(path) if is_double(n)) for path in product_files()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_simulator_or_fake_is_left_among_the_voice_modules() -> None:
    voice = {p.name for p in (ROOT / "voice").glob("*.py")}
    assert not {name for name in voice if name.startswith(("sim_", "simulate", "fake_", "twilio_client"))}

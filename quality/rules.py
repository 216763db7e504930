"""Loads and validates quality/rules.yml. A file that does not parse, or a rule that is wrong (unknown check,
missing field, bad severity, a regex that does not compile, a parameter of the wrong type), is refused with a
RuleFileError naming the rule and its line, so the product refuses to start rather than inspect with half the
rules. RuleSet.version is a hash of the file: stored inspections say which rules judged them.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quality.checks_registry import CHECKS

RULES_FILE = Path(__file__).resolve().parent / "rules.yml"
RULE_FIELDS = ("id", "description", "severity", "check")
SEVERITIES = (1, 2, 3)
DEFAULT_WEIGHTS = {1: 5, 2: 15, 3: 30}
RULE_START = re.compile(r"^\s*-\s*id:\s*['\"]?([\w-]+)")


class RuleFileError(ValueError):
    """The rule file cannot be used; the message names the file, the rule and the line."""


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: int
    check: str
    params: Mapping[str, Any]  # compiled: patterns are one re.Pattern, words a tuple
    line: int  # where the rule starts in the file


@dataclass(frozen=True)
class Limits:
    """A contact with more turns or characters than this is inspected in overlapping parts."""

    max_turns: int = 120
    max_chars: int = 12000
    overlap_turns: int = 20


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    weights: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    limits: Limits = field(default_factory=Limits)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


RULES_ENV = "P95598_QUALITY_RULES"  # a deployment's own rule file; quality/rules.yml by default


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules of `path` (else P95598_QUALITY_RULES, else quality/rules.yml); RuleFileError when the file is
    not usable. The analytics process and the console read the same file."""
    path = path or Path(os.environ.get(RULES_ENV) or RULES_FILE)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise RuleFileError(f"{path}: cannot read the rule file ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise RuleFileError(f"{path}: the rule file is not UTF-8 (byte {e.start})") from e
    return parse_rules(text, name=path.name)


def _rule_before(text: str, line: int) -> str | None:
    """The id of the rule whose block holds `line` (1-based), read from the raw text."""
    found = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if number > line:
            break
        if m := RULE_START.match(raw):
            found = m.group(1)
    return found


def _rule_lines(root: yaml.Node | None) -> list[int]:
    """The line (1-based) where each item of `rules:` starts, from the composed node tree."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_rules(text: str, name: str = "rules.yml") -> RuleSet:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        rule = _rule_before(text, line)
        where = f"rule '{rule}', line {line}" if rule else f"line {line}"
        raise RuleFileError(f"{name}: {where}: not valid YAML ({e.problem or e.context})") from e
    except yaml.YAMLError as e:
        raise RuleFileError(f"{name}: not valid YAML ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise RuleFileError(f"{name}: line 1: the file needs a non-empty list under 'rules:'")
    lines = _rule_lines(root)
    rules: list[Rule] = []
    for n, raw in enumerate(data["rules"]):
        line = lines[n] if n < len(lines) else 0
        parsed = _rule(raw, name, n, line)
        if any(r.id == parsed.id for r in rules):
            raise RuleFileError(f"{name}: rule '{parsed.id}', line {line}: the id is used twice")
        rules.append(parsed)
    return RuleSet(
        version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
        rules=tuple(rules),
        weights=_weights(data.get("weights"), name),
        limits=_limits(data.get("limits"), name),
    )


def _rule(raw: object, name: str, index: int, line: int) -> Rule:
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    named = isinstance(rule_id, str) and rule_id.strip()
    where = f"{name}: rule '{rule_id}', line {line}" if named else f"{name}: rule #{index + 1}, line {line}"
    if not isinstance(raw, dict):
        raise RuleFileError(f"{where}: a rule is a mapping with {', '.join(RULE_FIELDS)}")
    for key in RULE_FIELDS:
        if raw.get(key) in (None, ""):
            raise RuleFileError(f"{where}: missing '{key}'")
    if not isinstance(rule_id, str) or not isinstance(raw["description"], str):
        raise RuleFileError(f"{where}: 'id' and 'description' must be text")
    severity = raw["severity"]
    if isinstance(severity, bool) or severity not in SEVERITIES:
        raise RuleFileError(f"{where}: severity must be 1, 2 or 3, not {severity!r}")
    check = raw["check"]
    if check not in CHECKS:
        raise RuleFileError(f"{where}: unknown check {check!r} (known: {', '.join(sorted(CHECKS))})")
    expected = CHECKS[check].params
    given = {k: v for k, v in raw.items() if k not in RULE_FIELDS}
    for key in given.keys() - expected.keys():
        raise RuleFileError(f"{where}: check '{check}' takes no parameter '{key}'")
    params: dict[str, Any] = {}
    for key, kind in expected.items():
        if key not in given:
            raise RuleFileError(f"{where}: check '{check}' needs the parameter '{key}' ({kind})")
        params[key] = _param(given[key], kind, f"{where}: parameter '{key}'")
    return Rule(rule_id, raw["description"], int(severity), check, params, line)


def _param(value: object, kind: str, where: str) -> Any:
    if kind in ("patterns", "words"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleFileError(f"{where} must be a list of text, not {value!r}")
        if kind == "words":
            return tuple(value)
        if not value:
            raise RuleFileError(f"{where} needs at least one pattern")
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as e:
                raise RuleFileError(f"{where}: the pattern {pattern!r} does not compile ({e})") from e
        return re.compile("|".join(f"(?:{p})" for p in value))
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RuleFileError(f"{where} must be a whole number, not {value!r}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise RuleFileError(f"{where} must be a number, not {value!r}")
        return float(value)
    if kind == "text":
        if not isinstance(value, str):
            raise RuleFileError(f"{where} must be text, not {value!r}")
        return value
    if kind == "levels":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items()
        ):
            raise RuleFileError(f"{where} must map labels to whole numbers, not {value!r}")
        return dict(value)
    raise AssertionError(f"unknown parameter kind {kind}")


def _weights(raw: object, name: str) -> dict[int, int]:
    if raw is None:
        return dict(DEFAULT_WEIGHTS)
    if (
        not isinstance(raw, dict)
        or set(raw) != set(SEVERITIES)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in raw.values())
    ):
        raise RuleFileError(f"{name}: 'weights' must give a number of points for each severity 1, 2 and 3")
    return {int(k): int(v) for k, v in raw.items()}


def _limits(raw: object, name: str) -> Limits:
    if raw is None:
        return Limits()
    fields = ("max_turns", "max_chars", "overlap_turns")
    if (
        not isinstance(raw, dict)
        or set(raw) - set(fields)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw.values())
    ):
        raise RuleFileError(f"{name}: 'limits' takes whole numbers for {', '.join(fields)}")
    limits = Limits(**raw)
    if limits.max_turns < 2 or limits.overlap_turns >= limits.max_turns:
        raise RuleFileError(f"{name}: 'limits': max_turns must be at least 2 and more than overlap_turns")
    return limits

"""The course catalogue (quality/courses.yml) and the match of each agent's weak rules to training topics.

A rule is weak for an agent when the agent's contacts are flagged for it (confirmed or still pending, not
dismissed) on a clearly higher share than their colleagues': at least MIN_FLAGGED contacts (one is enough for a
severe rule: a single disclosure or rude answer is worth training), and a share at least MIN_GAP above and RATIO
times the colleagues' share. Colleagues are the rest of the agent's team, or every other agent when the agent has
no team or is alone in it.

Weak rules are ranked by severity first, then by the share flagged, so a severe rule's course comes before the
course of a minor one whatever their shares; a course comes at the rank of the first weak rule it trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

COURSES = Path(__file__).with_name("courses.yml")
MIN_FLAGGED = 2
SEVERE = 3  # rules of this severity are weak from one flagged contact
MIN_GAP = 0.10
RATIO = 1.5


class CourseFileError(ValueError):
    """The catalogue does not parse; the message names the course and what is wrong."""


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    summary: str
    hours: float
    rules: tuple[str, ...]


@dataclass(frozen=True)
class WeakRule:
    rule_id: str
    flagged: int
    contacts: int
    share: float
    colleagues_share: float
    severity: int = 1


def load_courses(path: Path | None = None) -> list[Course]:
    try:
        raw = yaml.safe_load((path or COURSES).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise CourseFileError(f"course catalogue {path or COURSES} cannot be read: {e}") from e
    entries = raw.get("courses") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise CourseFileError("course catalogue: a list under 'courses' is expected")
    out = []
    for n, c in enumerate(entries, 1):
        if not isinstance(c, dict) or not c.get("id") or not c.get("title") or not isinstance(c.get("rules"), list):
            name = c.get("id") if isinstance(c, dict) else c
            raise CourseFileError(f"course #{n} ({name}): id, title and rules are needed")
        out.append(Course(str(c["id"]), str(c["title"]), str(c.get("summary") or ""), float(c.get("hours") or 0),
                          tuple(str(r) for r in c["rules"])))  # fmt: skip
    return out


def _colleagues(agent: str, team: str, teams: dict[str, str]) -> list[str]:
    mates = [a for a, t in teams.items() if a != agent and team and t == team]
    return mates or [a for a in teams if a != agent]


def weak_rules(agent: str, shares: dict[str, Any], severity: Mapping[str, int] | None = None) -> list[WeakRule]:
    """The agent's weak rules, most severe first, then most flagged share; `shares` is
    quality.store_scores.rule_shares(), `severity` each rule's severity (1 when not given)."""
    severity = severity or {}
    contacts: dict[str, int] = shares["contacts"]
    flagged: dict[str, dict[str, int]] = shares["flagged"]
    mine = contacts.get(agent, 0)
    if not mine:
        return []
    mates = _colleagues(agent, shares["team"].get(agent, ""), shares["team"])
    their_contacts = sum(contacts.get(a, 0) for a in mates)
    weak = []
    for rule, n in flagged.get(agent, {}).items():
        share = n / mine
        theirs = sum(flagged.get(a, {}).get(rule, 0) for a in mates) / their_contacts if their_contacts else 0.0
        grade = int(severity.get(rule, 1))
        enough = 1 if grade >= SEVERE else MIN_FLAGGED
        if n >= enough and share >= theirs + MIN_GAP and share >= RATIO * theirs:
            weak.append(WeakRule(rule, n, mine, round(share, 3), round(theirs, 3), grade))
    return sorted(weak, key=lambda w: (-w.severity, -w.share, w.rule_id))


def courses_for(rules: list[str], catalogue: list[Course]) -> list[Course]:
    """The courses that train any of these rules (ranked, most important first), in the order of the first rule
    each one trains; the catalogue's order among courses of the same rule."""
    rank = {rule: n for n, rule in reversed(list(enumerate(rules)))}
    wanted = [c for c in catalogue if set(rank) & set(c.rules)]
    return sorted(wanted, key=lambda c: min(rank[r] for r in c.rules if r in rank))

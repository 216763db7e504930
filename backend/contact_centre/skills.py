"""Skill groups of the agents' desk (catalog/skills.yml): which group handles which catalog function, which
group a case needs, and whether an agent has it.

A case needs the group of the function the customer last asked for; an agent holds one or more groups (or
function ids) in `agents.skills`, and an empty list means "any group" (databases made before skills existed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SKILLS_PATH = Path(__file__).resolve().parents[2] / "catalog" / "skills.yml"
FALLBACK = "complaints"  # a case whose request is unknown: the complaints-and-orders desk takes anything
# what the customer says to the bot that is not a request for a service (dialogue acts, "转人工" itself)
NOT_REQUESTS = frozenset(
    {"affirm", "deny", "inform", "greet", "goodbye", "thanks", "human_agent", "nlu_fallback", "cancel", "out_of_scope"}
)


@dataclass(frozen=True)
class SkillGroup:
    id: str
    name: str
    functions: tuple[str, ...]


@dataclass(frozen=True)
class SkillGroups:
    groups: Mapping[str, SkillGroup]

    @property
    def ids(self) -> list[str]:
        return list(self.groups)

    def name(self, skill: str | None) -> str:
        """The Chinese name of a group ('' for none); a function id is named by its group."""
        if not skill:
            return ""
        group = self.groups.get(skill) or self.groups.get(self.group_of(skill) or "")
        return group.name if group else ""

    def group_of(self, function_id: str) -> str | None:
        for group in self.groups.values():
            if function_id in group.functions:
                return group.id
        return None

    def needed(self, functions: Iterable[str]) -> str:
        """The group for a case: that of the last service the customer asked for (FALLBACK when none)."""
        for function_id in reversed(list(functions)):
            if function_id in NOT_REQUESTS:
                continue
            group = self.group_of(function_id)
            if group:
                return group
        return FALLBACK

    def needed_by_context(self, context: Mapping[str, Any]) -> str:
        """The group for a case from its hand-over context (backend.case_view.recognised turns, last_function)."""
        said = [str(f.get("function") or "") for f in context.get("functions") or [] if isinstance(f, Mapping)]
        last = (context.get("slots") or {}).get("last_function")
        return self.needed([*([str(last)] if last else []), *said])

    def qualified(self, agent_skills: Sequence[str] | None, skill: str | None) -> bool:
        """Whether an agent holding `agent_skills` may take a case needing `skill` ([] or None: any)."""
        if not agent_skills or not skill:
            return True
        if skill in agent_skills:
            return True
        return (self.group_of(skill) or "") in agent_skills

    def clean(self, skills: Iterable[str]) -> list[str]:
        """Known group ids only, in catalog order, each once (what an agent's skills may hold)."""
        wanted = set(skills)
        return [g for g in self.groups if g in wanted]


def parse(data: Mapping[str, Any]) -> SkillGroups:
    groups = {}
    for gid, spec in (data.get("groups") or {}).items():
        groups[str(gid)] = SkillGroup(str(gid), str(spec["name"]), tuple(str(f) for f in spec.get("functions") or ()))
    if FALLBACK not in groups:
        raise ValueError(f"catalog/skills.yml must have the fallback group {FALLBACK!r}")
    return SkillGroups(groups)


@lru_cache(maxsize=1)
def skill_groups(path: Path = SKILLS_PATH) -> SkillGroups:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))

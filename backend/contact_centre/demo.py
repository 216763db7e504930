"""Demo console logins for a development database (the set-up makes them; production never has them)."""

from __future__ import annotations

from sqlalchemy import update

from backend import models as m
from backend.contact_centre.agents import AgentStore
from backend.contact_centre.kinds import AgentRole
from backend.contact_centre.skills import skill_groups

DEMO_AGENTS = (
    ("1001", "张丽", AgentRole.AGENT),
    ("1002", "王强", AgentRole.AGENT),
    ("9001", "刘主管", AgentRole.SUPERVISOR),
    ("9101", "质检员", AgentRole.QUALITY),
)
DEFAULT_DEMO_PASSWORD = "95598demo"
# skill groups (catalog/skills.yml) each demo login takes cases for; None: every group
DEMO_SKILLS: dict[str, tuple[str, ...] | None] = {
    "1001": ("repair", "billing"),
    "1002": ("billing", "business", "complaints"),
    "9001": None,
    "9101": (),  # quality staff take no cases
}


def ensure_demo_agents(agents: AgentStore, password: str) -> list[str]:
    """Creates the demo logins in a database without agents; the user names created (none otherwise)."""
    if agents.agent_count():
        return []
    groups = skill_groups()
    for username, name, role in DEMO_AGENTS:
        agent = agents.add_agent(username, name, password, role)
        skills = DEMO_SKILLS.get(username)
        with agents.sessions.begin() as s:
            s.execute(
                update(m.Agent)
                .where(m.Agent.id == agent.id)
                .values(skills=groups.ids if skills is None else groups.clean(skills))
            )
    return [username for username, _, _ in DEMO_AGENTS]

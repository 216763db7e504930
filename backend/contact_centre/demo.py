"""Demo console logins for a development database (the set-up makes them; production never has them)."""

from __future__ import annotations

from backend.contact_centre.agents import AgentStore
from backend.contact_centre.kinds import AgentRole

DEMO_AGENTS = (
    ("1001", "张丽", AgentRole.AGENT),
    ("1002", "王强", AgentRole.AGENT),
    ("9001", "刘主管", AgentRole.SUPERVISOR),
)
DEFAULT_DEMO_PASSWORD = "95598demo"


def ensure_demo_agents(agents: AgentStore, password: str) -> list[str]:
    """Creates the demo logins in a database without agents; the user names created (none otherwise)."""
    if agents.agent_count():
        return []
    for username, name, role in DEMO_AGENTS:
        agents.add_agent(username, name, password, role)
    return [username for username, _, _ in DEMO_AGENTS]

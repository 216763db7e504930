"""What the actions talk to: the CIS, the work-order desk, the knowledge service and the catalog.

rasa_sdk makes the action classes without arguments, so they reach these through `services()`: the action
server's main opens them once from its configuration (`configure`); elsewhere (tests, tools) they are opened
on first use from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from actions.config import ServicesConfig
from actions.kb_client import KnowledgeAnswers
from backend.cis import CIS, SqlCIS
from backend.contact_centre import ContactStore
from backend.db import make_engine, make_sessionmaker
from backend.identity import IdentityStore
from backend.workorders import WorkOrders
from channels.knowledge import KnowledgeClient
from knowledge.catalog import Catalog, catalog


@dataclass(frozen=True)
class Services:
    cis: CIS
    kb: KnowledgeAnswers
    catalog: Catalog
    contact: ContactStore
    identity: IdentityStore
    orders: WorkOrders  # the work-order desk (backend.workorders): survey answers


_configured: list[ServicesConfig] = []


def open_services(cfg: ServicesConfig) -> Services:
    sessions = make_sessionmaker(make_engine(cfg.db_url))
    return Services(
        SqlCIS(sessions),
        KnowledgeAnswers(KnowledgeClient(cfg.knowledge_url)),
        catalog(),
        ContactStore(sessions),
        IdentityStore(sessions),
        WorkOrders(sessions),
    )


def configure(cfg: ServicesConfig) -> None:
    """What `services()` opens from now on (the action server's main, before any action runs)."""
    _configured[:] = [cfg]
    services.cache_clear()


@lru_cache(maxsize=1)
def services() -> Services:
    return open_services(_configured[0] if _configured else ServicesConfig.from_env())


def money(amount: float) -> str:
    return f"{amount:.2f}元"

"""What the actions talk to: the CIS, the knowledge service and the catalog, created on first use."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from actions.kb_client import KnowledgeAnswers
from backend.cis import CIS, SqlCIS
from backend.contact import ContactStore
from backend.db import make_engine, make_sessionmaker
from backend.identity import IdentityStore
from knowledge.catalog import Catalog, catalog

@dataclass(frozen=True)
class Services:
    cis: CIS
    kb: KnowledgeAnswers
    catalog: Catalog
    contact: ContactStore
    identity: IdentityStore


@lru_cache(maxsize=1)
def services() -> Services:
    sessions = make_sessionmaker(make_engine())
    return Services(SqlCIS(sessions), KnowledgeAnswers.from_env(), catalog(), ContactStore(sessions),
                    IdentityStore(sessions))


def money(amount: float) -> str:
    return f"{amount:.2f}元"

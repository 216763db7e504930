"""The service-function catalog (catalog/service_functions.yml): the one source of ids, names, synonyms, channels."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog" / "service_functions.yml"
SELF_SERVICE_KINDS = ("self_service", "payment", "notification")


@dataclass(frozen=True)
class Function:
    id: str
    name: str
    kind: str
    description: str
    synonyms: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    functions: dict[str, Function]
    channels: dict[str, dict] = field(default_factory=dict)

    def name(self, function_id: str) -> str:
        f = self.functions.get(function_id)
        return f.name if f else function_id

    def channel_name(self, channel_id: str) -> str:
        return self.channels.get(channel_id, {}).get("name", channel_id)

    def recommend_channels(self, function_id: str, customer_channels: list[str] | None = None,
                           limit: int = 2) -> list[str]:
        """Channel ids for a function: self-service first, the ones the customer already uses before others."""
        f = self.functions.get(function_id)
        if not f:
            return []
        used = set(customer_channels or [])
        kind = lambda c: self.channels.get(c, {}).get("kind", "")
        ranked = sorted(f.channels, key=lambda c: (c not in used, kind(c) not in SELF_SERVICE_KINDS,
                                                   f.channels.index(c)))
        return ranked[:limit]


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    functions = {}
    for f in data["functions"]:
        syns = tuple(dict.fromkeys([*f.get("seed_synonyms", []), *f.get("synonyms", [])]))
        functions[f["id"]] = Function(f["id"], f["name"], f["kind"], f.get("description", ""),
                                      tuple(str(s) for s in syns), tuple(f.get("channels", [])))
    return Catalog(functions, data.get("channels", {}))


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return load_catalog()

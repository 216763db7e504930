"""The back end's set-up, run before the product's processes start (scripts/stack.py, the deploy's seed job):

python -m backend migrate                              the schema to the newest migration
python -m backend seed [--if-empty] [--customers N]    migrate, then the synthetic CIS data and the demo
                                                       console logins (those never in production)
python -m backend counts
"""

from __future__ import annotations

import argparse
import json
import logging

from backend.config import BackendConfig, ConfigError
from backend.contact_centre import AgentStore
from backend.contact_centre.canned import ensure_team_replies
from backend.contact_centre.demo import ensure_demo_agents
from backend.db import current_revision, make_engine, make_sessionmaker, upgrade
from backend.synthetic import counts, seed
from backend.workorders.demo import ensure_demo_field_logins

log = logging.getLogger("backend")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m backend")
    p.add_argument("command", choices=["migrate", "seed", "counts"])
    p.add_argument("--url", default=None, help="database URL (default: P95598_DB_URL, else var/backend.db)")
    p.add_argument("--customers", type=int, default=2400)
    p.add_argument("--if-empty", action="store_true", help="seed only when there are no customers yet")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        cfg = BackendConfig.from_env(db_url=a.url)
    except ConfigError as e:
        raise SystemExit(f"[backend] {e}") from None
    engine = make_engine(cfg.db_url)
    try:
        if a.command in ("migrate", "seed"):
            upgrade(engine)
            log.info("schema at revision %s", current_revision(engine))
        sessions = make_sessionmaker(engine)
        if a.command in ("migrate", "seed") and ensure_team_replies(sessions):
            log.info("wrote the starting team canned replies (常用语)")
        if a.command == "seed":
            seeded = not (a.if_empty and counts(sessions)["customers"])
            print(json.dumps(seed(sessions, customers=a.customers) if seeded else counts(sessions), ensure_ascii=False))
            if cfg.demo_agents:
                made = ensure_demo_agents(AgentStore(sessions), cfg.demo_password)
                if made:
                    log.warning("created demo console logins %s (password from P95598_DEMO_PASSWORD)", ", ".join(made))
                field = ensure_demo_field_logins(sessions, cfg.demo_password)
                if field:
                    log.warning("demo field-app logins %s (the same password)", ", ".join(field))
        if a.command == "counts":
            print(json.dumps(counts(sessions), ensure_ascii=False))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()

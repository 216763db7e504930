"""python -m console serve [--port 8060] | python -m console add-agent USERNAME NAME [--supervisor]"""

from __future__ import annotations

import argparse
import getpass
import logging

from aiohttp import web

from backend.contact_centre import AgentRole, AgentStore
from backend.db import make_engine, make_sessionmaker
from backend.pii import install_log_masking
from backend.settings import refuse_unsafe
from console.app import create_app
from console.config import ConfigError, ConsoleConfig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m console")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8060)
    add = sub.add_parser("add-agent", help="create a console login (password asked on the terminal)")
    add.add_argument("username")
    add.add_argument("name")
    add.add_argument("--supervisor", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    if a.command == "serve":
        refuse_unsafe("console")
    try:
        cfg = ConsoleConfig.from_env()
    except ConfigError as e:
        raise SystemExit(f"[console] {e}") from None
    if a.command == "add-agent":
        password = getpass.getpass("password: ")
        if len(password) < 8:
            raise SystemExit("use at least 8 characters")
        engine = make_engine(cfg.db_url)
        role = AgentRole.SUPERVISOR if a.supervisor else AgentRole.AGENT
        agent = AgentStore(make_sessionmaker(engine)).add_agent(a.username, a.name, password, role)
        engine.dispose()
        print(f"created {agent.username} ({agent.role})")
        return
    web.run_app(create_app(cfg), host=a.host, port=a.port, access_log=None)


if __name__ == "__main__":
    main()

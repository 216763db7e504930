"""python -m console serve [--port 8060] | python -m console add-agent USERNAME NAME [--supervisor]"""
from __future__ import annotations

import argparse
import getpass
import logging

from aiohttp import web

from backend.pii import install_log_masking
from backend.settings import refuse_unsafe
from console.app import create_app
from console.config import ConsoleConfig


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
    cfg = ConsoleConfig.from_env()
    if a.command == "add-agent":
        password = getpass.getpass("password: ")
        if len(password) < 8:
            raise SystemExit("use at least 8 characters")
        agent = cfg.contact.add_agent(a.username, a.name, password, "supervisor" if a.supervisor else "agent")
        print(f"created {agent.username} ({agent.role})")
        return
    web.run_app(create_app(cfg), host=a.host, port=a.port, access_log=None)


if __name__ == "__main__":
    main()

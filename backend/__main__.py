"""python -m backend seed [--if-empty] [--customers N] [--url URL] | python -m backend counts"""
from __future__ import annotations

import argparse
import json

from backend.db import database_url, make_engine, make_sessionmaker
from backend.synthetic import counts, seed


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m backend")
    p.add_argument("command", choices=["seed", "counts"])
    p.add_argument("--url", default=None, help=f"database URL (default {database_url()})")
    p.add_argument("--customers", type=int, default=2400)
    p.add_argument("--if-empty", action="store_true", help="seed only when there are no customers yet")
    a = p.parse_args(argv)
    sessions = make_sessionmaker(make_engine(a.url))
    if a.command == "seed" and not (a.if_empty and counts(sessions)["customers"]):
        print(json.dumps(seed(sessions, customers=a.customers), ensure_ascii=False))
    else:
        print(json.dumps(counts(sessions), ensure_ascii=False))


if __name__ == "__main__":
    main()

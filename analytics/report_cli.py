"""python -m analytics report --kind weekly|monthly|custom --from 2026-11-23 [--to 2026-11-29] [--area A01]
[--no-pdf] [--by NAME]: one report generated, archived and recorded (analytics/report.py); prints where it is."""

from __future__ import annotations

import argparse
import sys

from analytics.kpis_range import RangeError
from analytics.report import generate, reports_dir
from backend.db import make_engine, make_sessionmaker


def cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m analytics report")
    p.add_argument("--kind", default="weekly", help="weekly (7 days from --from), monthly (its month) or custom")
    p.add_argument("--from", dest="first", required=True, help="first local day, YYYY-MM-DD")
    p.add_argument("--to", dest="last", default=None, help="last local day (custom reports; optional otherwise)")
    p.add_argument("--area", default=None, help="a service area code, e.g. A01 (default: all areas)")
    p.add_argument("--by", default="cli", help="who asked for it (kept with the report)")
    p.add_argument("--no-pdf", action="store_true", help="the HTML only")
    a = p.parse_args(argv)
    engine = make_engine()
    try:
        done = generate(make_sessionmaker(engine), a.kind, a.first, a.last, a.area, a.by, pdf=not a.no_pdf)
    except RangeError as e:
        print(f"报表参数不对：{e}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    folder = reports_dir()
    print(f"#{done['id']} {done['title']}：{done['contacts']} 个会话")
    print(f"HTML  {folder / done['html']}")
    print(f"PDF   {folder / done['pdf']}" if done["pdf"] else f"PDF   未生成：{done['pdf_error']}")
    return 0

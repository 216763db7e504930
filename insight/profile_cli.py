"""python -m insight profile ACCOUNT --out FILE.html|FILE.pdf [--history DIR] [--db URL] [--whole] (also
python -m insight.profile_cli): one customer's profile (客户画像, insight/profile.py) written to a file. The holder
is masked unless --whole; the history is P95598_INSIGHT_HISTORY, else <P95598_VAR or var>/insight/history, as the
console and `python -m insight refresh` read it; tags and risk come from the product's database. Exit 2 for a bad
or unknown account (the reason on standard error), 1 when the PDF could not be printed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from backend.db import REPO, make_engine, make_sessionmaker
from insight import drill, profile


def default_history() -> Path:
    """As the console and `python -m insight refresh` read it."""
    var = Path(os.environ.get("P95598_VAR") or REPO / "var")
    return Path(os.environ.get("P95598_INSIGHT_HISTORY") or var / "insight" / "history")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m insight.profile_cli", description="客户画像：一个户号的一页报告")
    p.add_argument("account", help="10-digit 户号")
    p.add_argument("--out", required=True, type=Path, help="the file to write: .pdf for a PDF, else HTML")
    p.add_argument("--history", type=Path, default=None, help="the insight Parquet directory")
    p.add_argument("--db", default=None, help="the product's database URL (tags, risk, the holder)")
    p.add_argument("--whole", action="store_true", help="show the holder's name, phone and address unmasked")
    a = p.parse_args(argv)
    try:
        ds = drill.open_history(a.history or default_history())
    except drill.HistoryMissing as e:
        print(f"{e}（{a.history or default_history()}）", file=sys.stderr)
        return 2
    engine = make_engine(a.db)
    try:
        with make_sessionmaker(engine)() as s:
            data = profile.profile_data(ds, s, a.account, a.whole)
    except profile.ProfileError as e:
        print(str(e), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
        ds.backend.disconnect()
    html = profile.render_html(data, by="命令行")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    if a.out.suffix.lower() != ".pdf":
        a.out.write_text(html, encoding="utf-8")
        print(f"HTML  {a.out}")
        return 0
    pdf, error = profile.pdf_bytes(html)
    if pdf is None:
        print(error, file=sys.stderr)
        return 1
    a.out.write_bytes(pdf)
    print(f"PDF   {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

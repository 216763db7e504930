"""Customer insight from the command line: `python -m insight <command> [options]`; `<command> --help` for each.

A command is a module with `main(argv) -> int`; add one to COMMANDS with the line its help shows.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {  # name -> (module, what it does)
    "refresh": ("insight.refresh", "the product's pipeline: CIS -> history -> jobs -> risk model -> publish"),
    "generate": ("insight.generate", "a synthetic 36-month history: OUT --customers N (or --cis DB_URL)"),
    "risk": ("insight.risk_eval", "train and evaluate the arrears-risk model on a history: DIR [--engine]"),
    "profile": ("insight.profile_cli", "one customer's profile (客户画像) as HTML or PDF: ACCOUNT --out FILE"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m insight",
        description=__doc__.split("\n\n")[0],
        epilog="commands:\n" + "\n".join(f"  {name:10} {what}" for name, (_, what) in COMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the command's own options")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    command: int = importlib.import_module(COMMANDS[args.command][0]).main(args.args)
    return command


if __name__ == "__main__":
    sys.exit(main())

"""Dependency audit printed by the test command: pip-audit over both venvs (never fails the run).

pip-audit asks PyPI's JSON API (or OSV) which installed versions have known vulnerabilities. Where neither
can be reached (this workplace's machines only reach a package mirror), it says so instead of passing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def audit(label: str, extra: list[str]) -> str:
    cmd = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json", *extra]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        return f"{label}: pip-audit timed out"
    try:
        deps = json.loads(run.stdout or "{}").get("dependencies", [])
    except ValueError:
        return f"{label}: pip-audit failed: {(run.stderr or run.stdout).strip().splitlines()[-1:]}"
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [
        f"{d['name']} {d['version']} ({', '.join(v['id'] for v in d['vulns'])})" for d in audited if d.get("vulns")
    ]
    if not audited:
        return (
            f"{label}: {len(deps)} packages, none could be audited (no vulnerability service reachable "
            f"from this machine: PyPI's JSON API / api.osv.dev)"
        )
    return (
        f"{label}: {len(audited)} of {len(deps)} packages audited, {len(vulnerable)} with known vulnerabilities"
        + "".join(f"\n    {v}" for v in vulnerable)
    )


def main() -> None:
    print("== dependency audit (pip-audit) ==")
    print(audit("app venv (Python 3.11)", []))
    rasa_py = os.environ.get("RASA_PY")
    if rasa_py:
        site = next(Path(rasa_py).parent.parent.glob("lib/python3*/site-packages"), None)
        if site:
            print(audit("rasa venv (Python 3.10)", ["--path", str(site)]))


if __name__ == "__main__":
    main()

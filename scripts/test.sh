#!/usr/bin/env bash
# With no arguments (make test): the checks (ruff lint, ruff format, mypy; settings in pyproject.toml), then every
# test (pytest starts its own servers on free ports with a scratch database), then the dependency audit
# (informational: it never changes the exit status). Arguments go to pytest, and only the tests run.
set -uo pipefail
cd "$(dirname "$0")/.."
checks=0
if [ -z "$*" ]; then
  scripts/with-env.sh '$APP_PY -m ruff check --no-fix . && $APP_PY -m ruff format --check . && $APP_PY -m mypy' ||
    { checks=1; echo "ruff or mypy found problems (above): fix them, or run \`ruff format .\` / \`ruff check --fix .\`" >&2; }
fi
scripts/with-env.sh '$APP_PY -m scripts.stack model >/dev/null && $APP_PY -m pytest tests -p no:cacheprovider '"$*"
rc=$?
[ $rc -eq 5 ] && { echo "no tests were collected" >&2; exit 1; }
[ -z "$*" ] && scripts/with-env.sh '$APP_PY -m scripts.audit' 2>&1
[ $rc -eq 0 ] && rc=$checks
exit $rc

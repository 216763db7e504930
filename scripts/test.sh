#!/usr/bin/env bash
# Runs every test (pytest starts its own servers on free ports with a scratch database), then prints the
# dependency audit (informational: it never changes the exit status).
set -uo pipefail
"$(dirname "$0")/with-env.sh" '$APP_PY -m scripts.stack model >/dev/null && $APP_PY -m pytest tests -p no:cacheprovider '"$*"
rc=$?
[ $rc -eq 5 ] && { echo "no tests were collected" >&2; exit 1; }
[ -z "$*" ] && "$(dirname "$0")/with-env.sh" '$APP_PY -m scripts.audit' 2>&1
exit $rc

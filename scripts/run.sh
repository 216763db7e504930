#!/usr/bin/env bash
# Runs the product on one box: SQLite back end (seeded on first run), action server, knowledge service,
# Rasa server with the REST channel and HTTP API. Ctrl-C stops everything.
exec "$(dirname "$0")/with-env.sh" '$APP_PY -m scripts.stack run'

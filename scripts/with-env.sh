#!/usr/bin/env bash
# Runs a command with the project's venvs and model paths set (creating them on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/bootstrap.sh)"
export PYTHONPATH="$PWD" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false RASA_TELEMETRY_ENABLED=false
exec bash -c "$*"

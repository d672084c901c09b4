#!/usr/bin/env bash
# What the Longview images run. `init` (the compose file's one-shot service, before any other
# starts): put the model assets built into the image into the shared data volume, migrate the
# database, and create the admin named by LONGVIEW_ADMIN_* (once). `static`: collect the static files
# (at image build). Anything else is run as given (daphne, celery).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${LONGVIEW_PYTHON:-python}
DATA_DIR=${LONGVIEW_DATA_DIR:-$PWD/var}

install_assets() {
  # Copies only what differs, so a new image's models replace an older volume's and a restart
  # rewrites nothing.
  local src=${LONGVIEW_ASSETS_DIR:-/opt/longview/assets}/models
  [ -d "$src" ] || { echo "init: no model assets in $src" >&2; exit 1; }
  (cd "$src" && find . -type f) | while read -r f; do
    if ! cmp -s "$src/$f" "$DATA_DIR/models/$f"; then
      mkdir -p "$(dirname "$DATA_DIR/models/$f")"
      cp "$src/$f" "$DATA_DIR/models/$f.tmp"
      mv "$DATA_DIR/models/$f.tmp" "$DATA_DIR/models/$f"
      echo "init: installed models/${f#./}"
    fi
  done
}

case "${1:-}" in
  init)
    mkdir -p "$DATA_DIR/models" "$DATA_DIR/media"
    install_assets
    "$PY" manage.py migrate --noinput
    "$PY" manage.py seed_admin --if-configured
    ;;
  static)
    "$PY" manage.py collectstatic --noinput -v 0
    ;;
  *)
    exec "$@"
    ;;
esac

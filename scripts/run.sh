#!/usr/bin/env bash
# Set up, then run Longview on this machine: Redis, two Celery workers, daphne, and the demo footage.
set -euo pipefail
cd "$(dirname "$0")/.."
LONGVIEW_WITH_BROWSER=0 bash scripts/setup.sh
export LONGVIEW_DATA_DIR=${LONGVIEW_DATA_DIR:-$PWD/var}
LOG_DIR=$LONGVIEW_DATA_DIR/logs
mkdir -p "$LOG_DIR"
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap 'echo; echo "stopping…"; stop_all; exit 0' INT TERM
trap stop_all EXIT

REDIS_PORT=$(free_port "${REDIS_PORT:-6379}")
WEB_PORT=$(free_port "${PORT:-8000}")
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
start_redis "$REDIS_PORT" "$LONGVIEW_DATA_DIR/redis"
.venv/bin/python manage.py seed_demo
start_worker ingest ingest
start_worker search search
start_beat
start_web "$WEB_PORT"
echo "Longview is up at http://127.0.0.1:$WEB_PORT/  (logs in $LOG_DIR)"
.venv/bin/python manage.py ingest_file "$LONGVIEW_DATA_DIR/data/vtest.avi" --camera "Square north" --case DEMO-1 \
  --recorded-at "2026-11-02T09:00:00" --once --wait
.venv/bin/python manage.py seed_demo | sed 's/^/  /'
echo "Open http://127.0.0.1:$WEB_PORT/ and log in. Press Ctrl-C to stop."
wait

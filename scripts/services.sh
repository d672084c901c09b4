# Helpers to start Longview's processes; sourced by run.sh. Every child is stopped on exit, Redis last.
PIDS=()
REDIS_PID=""

free_port() {
  .venv/bin/python - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
for p in range(port, port + 200):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        print(p)
        break
PY
}

start_redis() {  # $1 = port, $2 = data dir
  mkdir -p "$2"
  redis-server --port "$1" --bind 127.0.0.1 --dir "$2" --save 60 1 --appendonly no --daemonize no \
    --logfile "$2/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 50); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "run: Redis did not start on port $1 (see $2/redis.log)" >&2
  return 1
}

start_worker() {  # $1 = name, $2 = queues
  .venv/bin/celery -A webapp worker -n "$1@%h" -Q "$2" --concurrency 1 --pool prefork \
    --without-mingle --without-gossip --loglevel INFO >>"$LOG_DIR/worker-$1.log" 2>&1 &
  PIDS+=($!)
}

start_beat() {  # the daily jobs: retention enforcement
  .venv/bin/celery -A webapp beat --schedule "$LONGVIEW_DATA_DIR/celerybeat-schedule" --loglevel INFO \
    >>"$LOG_DIR/beat.log" 2>&1 &
  PIDS+=($!)
}

start_web() {  # $1 = port
  .venv/bin/daphne -b 127.0.0.1 -p "$1" webapp.asgi:application >>"$LOG_DIR/web.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$1/healthz', timeout=1)" \
      >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "run: the web server did not start (see $LOG_DIR/web.log)" >&2
  return 1
}

stop_all() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$REDIS_PID" ]; then kill -TERM "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
}

#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL cluster: initdb in a temporary folder, a free port,
# DATABASE_URL exported to the command, the cluster stopped and deleted afterwards, even on failure.
#   bash scripts/with_postgres.sh .venv/bin/pytest tests/webapp -q
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -gt 0 ] || { echo "with_postgres: give the command to run" >&2; exit 2; }
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "with_postgres: PostgreSQL is not installed (run scripts/setup.sh)" >&2
  exit 2
fi

# PostgreSQL refuses to run as root; as root, the cluster belongs to the postgres system user.
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  AS=(runuser -u postgres --)
fi

PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/longview-pg.XXXXXX")
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
PORT=$(.venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")

stop_cluster() {
  "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_cluster EXIT INT TERM

"${AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U longview --auth=trust -E UTF8 --locale=C.UTF-8 \
  --no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
# Durability is not what these tests check: fsync off keeps a 2-core CI machine fast.
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
  -o "-p $PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$PG_DIR/server.log" >&2; exit 1; }
"${AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U longview longview

export DATABASE_URL="postgres://longview@127.0.0.1:$PORT/longview"
echo "==> PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PORT" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"

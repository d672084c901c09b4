#!/usr/bin/env bash
# Set up, then run the linters and the whole test suite (unit, web and end-to-end) on SQLite, then the
# web and end-to-end tests again on a throw-away PostgreSQL cluster (LONGVIEW_TEST_POSTGRES=0 skips
# that second run; arguments go to the first pytest run only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy"
.venv/bin/mypy reid_engine webapp
echo "==> pytest"
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "test: pytest collected no tests; that is a failure" >&2
  exit 1
fi
[ "$rc" = 0 ] || exit "$rc"
if [ "${LONGVIEW_TEST_POSTGRES:-1}" = 1 ]; then
  echo "==> pytest on PostgreSQL (web and end-to-end)"
  # The worker-kill test ran on SQLite above; it adds minutes and its database work is the ingest
  # path the PostgreSQL concurrency tests cover.
  bash scripts/with_postgres.sh .venv/bin/pytest -q tests/webapp tests/e2e --deselect tests/e2e/test_worker_kills.py
fi

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
  echo "==> pytest on PostgreSQL (web, and the cases journey end to end)"
  # Every web test, and the browser journey that goes through cases, subjects, decisions and the
  # evidence export (the most database work of any journey). The other journeys ran on SQLite above:
  # their database work is the ingest and search paths the web tests cover on PostgreSQL too, and
  # running them twice would take the suite past its time.
  bash scripts/with_postgres.sh .venv/bin/pytest -q tests/webapp tests/e2e/test_cases_journey.py
fi

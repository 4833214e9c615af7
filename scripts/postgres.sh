#!/usr/bin/env bash
# A local PostgreSQL with pgvector (from the pgserver wheel in .venv) for development and tests.
#   bash scripts/postgres.sh start|stop|status [data dir]   (default data/postgres, or PLANBOT_PG_DATA)
# `start` prints the connection URL as its last line: PLANBOT_DB="$(bash scripts/postgres.sh start | tail -1)"
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -W ignore -m store.pgserve "$@"

"""A local PostgreSQL with pgvector for development and tests, from the `pgserver` wheel (the
server binaries and pgvector ship inside it: nothing to install beside `.venv`).

    python -m store.pgserve start|stop|status [data dir]

`start` initialises the data directory if needed (default `data/postgres`, or
`PLANBOT_PG_DATA`), starts the server on a Unix socket inside it, creates the database
(`PLANBOT_PG_DATABASE`, default `planbot`) with the `vector` extension, and prints the
connection URL as its last line. The server keeps running after the command; `stop` stops it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_DIR = Path("data/postgres")
DEFAULT_DATABASE = "planbot"


def data_dir(given: str | None = None) -> Path:
    return Path(given or os.environ.get("PLANBOT_PG_DATA") or DEFAULT_DIR).resolve()


def start(pgdata: Path, database: str = DEFAULT_DATABASE, at_exit: str | None = None) -> str:
    """Start (or find running) the server in `pgdata`; the URL of `database`, created with the
    `vector` extension. `at_exit`: None keeps the server running after this process, "stop"
    stops it when this process exits, "delete" also deletes its data (tests)."""
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=at_exit)
    create_database(server.get_uri(), database)
    return server.get_uri(database)


def create_database(admin_url: str, database: str) -> None:
    """Create `database` (if absent) with the `vector` extension."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
            is None
        ):
            conn.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(
        admin_url.replace("/postgres?", f"/{database}?", 1), autocommit=True
    ) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def _pg_ctl(pgdata: Path, *args: str) -> str:
    from pgserver._commands import pg_ctl

    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    return pg_ctl(list(args), pgdata=pgdata, user=user)


def running(pgdata: Path) -> bool:
    return (pgdata / "postmaster.pid").exists()


def stop(pgdata: Path) -> None:
    if running(pgdata):
        _pg_ctl(pgdata, "-w", "stop")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("start", "stop", "status"):
        sys.stderr.write("usage: python -m store.pgserve start|stop|status [data dir]\n")
        return 2
    pgdata = data_dir(args[1] if len(args) > 1 else None)
    database = os.environ.get("PLANBOT_PG_DATABASE") or DEFAULT_DATABASE
    if args[0] == "start":
        url = start(pgdata, database)
        sys.stdout.write(f"PostgreSQL (pgvector) chạy tại {pgdata}\n{url}\n")
    elif args[0] == "stop":
        stop(pgdata)
        sys.stdout.write(f"PostgreSQL tại {pgdata} đã dừng.\n")
    else:
        if not running(pgdata):
            sys.stdout.write(f"PostgreSQL tại {pgdata}: không chạy.\n")
            return 1
        sys.stdout.write(f"PostgreSQL tại {pgdata}: đang chạy.\n{start(pgdata, database)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

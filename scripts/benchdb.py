"""Databases for the benchmarks: a fresh SQLite file or a fresh PostgreSQL schema each run."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

PG_URL = os.environ.get("LIFECYCLE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_database(engine: str, folder: Path | None = None) -> Iterator[str]:
    """A URL to an empty database on `engine` ("sqlite" or "postgres"), removed afterwards."""
    if engine == "sqlite":
        if folder is not None:
            yield f"sqlite:///{folder}/bench.db"
            return
        with tempfile.TemporaryDirectory() as temporary:
            yield f"sqlite:///{temporary}/bench.db"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def engines(args: argparse.Namespace) -> list[str]:
    """The engines to measure: the one named by --database-url, else SQLite and PostgreSQL."""
    if args.database_url:
        return ["given"]
    found = ["sqlite"]
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
        found.append("postgres")
    except Exception as error:
        print(f"(PostgreSQL skipped: {error})")
    return found


@contextlib.contextmanager
def database(args: argparse.Namespace, engine: str) -> Iterator[str]:
    if engine == "given":
        yield args.database_url
    else:
        with fresh_database(engine) as url:
            yield url

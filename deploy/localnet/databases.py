"""Postgres databases of a local network: one per node plus the shared local chain, each cloned
from a migrated template so a fresh network is ready in seconds."""

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]


def admin_dsn(host: str = "127.0.0.1", port: int = 5432, user: str = "postgres") -> str:
    return f"host={host} port={port} user={user} dbname=postgres"


def database_url(name: str, host: str = "127.0.0.1", port: int = 5432, user: str = "postgres") -> str:
    return f"postgres://{user}@{host}:{port}/{name}"


def existing_databases(prefix: str, *, port: int = 5432, host: str = "127.0.0.1") -> set[str]:
    with psycopg.connect(admin_dsn(host=host, port=port), autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)).fetchall()
    return {r[0] for r in rows}


def drop_databases(names: list[str], *, port: int = 5432) -> None:
    with psycopg.connect(admin_dsn(port=port), autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrate(url: str, env: Mapping[str, str]) -> None:
    full = {**env, "DATABASE_URL": url, "CHAIN_DATABASE_URL": ""}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v0"], env=full, check=True, cwd=ROOT
    )


def ensure_databases(
    *,
    template: str,
    names: list[str],
    env: Mapping[str, str],
    migrate_existing: bool,
    port: int = 5432,
    host: str = "127.0.0.1",
) -> list[str]:
    """Create the missing databases from a freshly migrated template; returns those created.
    `host` is where Postgres answers (compose: its service name); a password comes from PGPASSWORD."""
    present = existing_databases(template.rsplit("_", 1)[0], port=port, host=host)
    with psycopg.connect(admin_dsn(host=host, port=port), autocommit=True) as conn:
        if template not in present:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    migrate(database_url(template, host=host, port=port), env)
    created = []
    with psycopg.connect(admin_dsn(host=host, port=port), autocommit=True) as conn:
        for name in names:
            if name in present:
                continue
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
            created.append(name)
    if migrate_existing:
        _migrate_all([database_url(n, host=host, port=port) for n in names if n not in created], env)
    return created


def _migrate_all(urls: list[str], env: Mapping[str, str]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v0"],
            env={**env, "DATABASE_URL": url, "CHAIN_DATABASE_URL": ""},
            cwd=ROOT,
        )
        for url in urls
    ]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("migrating a node database failed")

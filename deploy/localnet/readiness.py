"""Is the local network ready? Read straight from the nodes' databases, and their /healthz/."""

import urllib.request

import psycopg

from deploy.localnet.databases import database_url


def _connect(database: str, port: int) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(database_url(database, port=port).replace("postgres://", "postgresql://"))


def dht_online_miners(*, database: str, holder: str, port: int = 5432) -> set[str]:
    """Miners whose ONLINE heartbeat the node `holder` (its DHT process) has heard."""
    with _connect(database, port) as conn:
        rows = conn.execute(
            "SELECT hotkey FROM dht_nodeheartbeat WHERE holder = %s AND state = 'ONLINE' AND role = 'miner'",
            (holder,),
        ).fetchall()
    return {str(r[0]) for r in rows}


def validators_connected(*, database: str, port: int = 5432) -> set[str]:
    """Validators holding a session with the facilitator whose database this is."""
    with _connect(database, port) as conn:
        rows = conn.execute(
            "SELECT DISTINCT hotkey FROM facilitator_validatorsession WHERE disconnected_at IS NULL"
        ).fetchall()
    return {str(r[0]) for r in rows}


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback only)
            return bool(response.status == 200)
    except OSError:
        return False

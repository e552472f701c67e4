"""A test network can run on its own Postgres and Redis: every node's environment points there."""

from pathlib import Path

import pytest

from deploy.localnet.network import LocalNetwork, NetworkConfig
from deploy.localnet.processes import Proc


def _env(config: NetworkConfig) -> dict[str, str]:
    net = LocalNetwork(config)
    net.nodes = [net._node("facilitator", "facilitator", 18000, 0), net._node("miner1", "miner", 18100, 1000)]
    return net._env(net.nodes[1])


def test_a_private_postgres_and_redis_reach_every_node(tmp_path: Path) -> None:
    config = NetworkConfig(
        directory=tmp_path, db_prefix="meshwork_t", postgres_port=25999, redis_url="redis://127.0.0.1:26001/0"
    )
    env = _env(config)
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:25999/meshwork_t_miner1"
    assert env["CHAIN_DATABASE_URL"] == "postgres://postgres@127.0.0.1:25999/meshwork_t_chain"
    # Celery's broker follows the Redis URL, so a restarted private Redis is the one it reconnects to.
    assert env["REDIS_URL"] == env["CELERY_BROKER_URL"] == "redis://127.0.0.1:26001/0"


@pytest.mark.parametrize("inherited", ["", "redis://elsewhere:6379/1"])
def test_the_defaults_are_the_machines_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inherited: str
) -> None:
    if inherited:
        monkeypatch.setenv("CELERY_BROKER_URL", inherited)  # an operator's shell must not redirect it
    env = _env(NetworkConfig(directory=tmp_path, db_prefix="meshwork_t"))
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/meshwork_t_miner1"
    assert env["REDIS_URL"] == env["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"


def test_celery_workers_run_only_for_the_roles_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Proc, "start", lambda self: None)  # the processes' list, not the processes
    config = NetworkConfig(directory=tmp_path, db_prefix="meshwork_t", celery_roles=frozenset({"facilitator"}))
    net = LocalNetwork(config)
    net.nodes = [net._node("facilitator", "facilitator", 18000, 0), net._node("miner1", "miner", 18100, 1000)]
    net.start()
    names = [p.name for p in net.procs]
    assert names == ["facilitator", "facilitator-celery", "facilitator-dht", "miner1", "miner1-dht"]


def test_every_role_runs_its_celery_worker_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Proc, "start", lambda self: None)
    net = LocalNetwork(NetworkConfig(directory=tmp_path, db_prefix="meshwork_t"))
    net.nodes = [net._node("facilitator", "facilitator", 18000, 0), net._node("miner1", "miner", 18100, 1000)]
    net.start()
    assert {p.name for p in net.procs} >= {"facilitator-celery", "miner1-celery"}

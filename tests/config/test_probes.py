"""`/healthz/` answers without looking at anything; `/readyz/` checks the database, Redis, the
chain, the Celery heartbeat and (miners) the Docker engines, each with its own reason and a short
timeout, 503 when any fails. Real Postgres, Redis and Docker; unreachable ones are closed ports."""

import time
import uuid

import pytest

from chain.client import chain_clients_close
from config.readiness import readiness_checks, readiness_run
from config.roles import NodeRole
from protocol.liveness import CeleryLiveness, LivenessBeater
from protocol.version import NODE_VERSION

CLOSED = "127.0.0.1:1"  # nothing listens: refused at once
# /readyz/ checks run in their own threads, on their own connections: rows must be committed.
readyz_db = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_redis_prefix(settings):
    """This test's Celery heartbeat key, apart from other runs sharing the Redis."""
    settings.REDIS_PREFIX = f"meshwork-test:probes:{uuid.uuid4().hex}"
    settings.CHAIN = "local"


@pytest.fixture
def worker_alive(own_redis_prefix):
    liveness = CeleryLiveness()
    liveness.beat()
    yield liveness
    liveness.client.delete(liveness.key)


def test_healthz_answers_without_its_dependencies(client, settings):
    settings.REDIS_URL = f"redis://{CLOSED}/0"
    response = client.get("/healthz/")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@readyz_db
@pytest.mark.usefixtures("worker_alive")
def test_a_node_with_everything_up_is_ready(client):
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["role"], body["version"]) == ("ready", "all", NODE_VERSION)
    assert set(body["checks"]) == {"database", "redis", "chain", "celery", "docker:local"}
    assert all(check["ok"] for check in body["checks"].values())


@readyz_db
@pytest.mark.usefixtures("worker_alive")
def test_redis_unreachable_is_503_with_the_reason(client, settings):
    settings.REDIS_URL = f"redis://{CLOSED}/0"
    response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    redis_check = body["checks"]["redis"]
    assert (redis_check["ok"], redis_check["reason"]) == (False, "unreachable")
    assert CLOSED in redis_check["detail"]
    assert body["checks"]["database"]["ok"] is True


@readyz_db
@pytest.mark.usefixtures("worker_alive")
def test_a_miner_with_its_docker_engine_unreachable_is_not_ready(client, settings):
    settings.MINER_EXECUTOR_HOSTS = f"local=local;cpu.small=1|remote=tcp://{CLOSED};cpu.small=1"
    response = client.get("/readyz/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["docker:local"]["ok"] is True
    assert (checks["docker:remote"]["ok"], checks["docker:remote"]["reason"]) == (False, "unreachable")


def test_only_miners_check_docker(settings):
    assert set(readiness_checks(NodeRole.FACILITATOR)) == {"database", "redis", "chain", "celery"}
    assert set(readiness_checks(NodeRole.VALIDATOR)) == {"database", "redis", "chain", "celery"}
    settings.MINER_EXECUTOR_HOSTS = "a=local;cpu.small=1|b=tcp://10.0.0.2:2375;cpu.small=1"
    assert set(readiness_checks(NodeRole.MINER)) == {"database", "redis", "chain", "celery", "docker:a", "docker:b"}


@readyz_db
def test_an_unreachable_chain_is_not_ready(client, settings, worker_alive):
    settings.CHAIN, settings.CHAIN_ENDPOINT = "subtensor", f"ws://{CLOSED}"
    # A refused connection is quick, but the first substrate client import is not on a loaded machine.
    settings.READYZ_CHECK_TIMEOUT_S = 30
    try:
        response = client.get("/readyz/")
    finally:
        chain_clients_close()
    chain = response.json()["checks"]["chain"]
    assert (response.status_code, chain["ok"], chain["reason"]) == (503, False, "unreachable")
    assert chain["detail"].startswith("subtensor: ")


@readyz_db
def test_no_celery_heartbeat_is_not_ready(client):
    response = client.get("/readyz/")
    celery = response.json()["checks"]["celery"]
    assert (response.status_code, celery["reason"]) == (503, "stale")
    assert "no Celery worker heartbeat" in celery["detail"]


@readyz_db
def test_an_old_celery_heartbeat_is_stale(client, settings, worker_alive):
    worker_alive.client.set(worker_alive.key, repr(time.time() - 120))
    settings.CELERY_ALIVE_MAX_AGE_S = 60
    celery = client.get("/readyz/").json()["checks"]["celery"]
    assert (celery["ok"], celery["reason"], celery["detail"]) == (
        False,
        "stale",
        "last Celery worker heartbeat 120s ago",
    )


def test_a_hanging_check_is_reported_as_a_timeout_in_time(settings):
    settings.READYZ_CHECK_TIMEOUT_S = 0.3
    started = time.monotonic()
    results = readiness_run({"slow": lambda: time.sleep(2), "fast": lambda: None})
    assert time.monotonic() - started < 1.0
    by_name = {result.name: result for result in results}
    assert (by_name["slow"].ok, by_name["slow"].reason) == (False, "timeout")
    assert by_name["fast"].ok


def test_a_crashing_check_is_an_error_not_a_500():
    def broken() -> None:
        raise KeyError("surprise")

    (result,) = readiness_run({"broken": broken})
    assert (result.ok, result.reason, result.detail) == (False, "error", "KeyError: 'surprise'")


def test_the_beater_keeps_the_heartbeat_fresh(settings):
    settings.CELERY_ALIVE_INTERVAL_S = 0.05
    liveness = CeleryLiveness()
    beater = LivenessBeater(liveness)
    beater.start()
    try:
        deadline = time.monotonic() + 3
        while liveness.age_s() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        first = liveness.last_beat_at()
        assert first is not None
        time.sleep(0.2)
        assert (liveness.last_beat_at() or 0) > first  # beaten again since
    finally:
        beater.stop()
        liveness.client.delete(liveness.key)

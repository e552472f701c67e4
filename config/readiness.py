"""What `/readyz/` checks: the node's database, its Redis, its chain backend, its Celery worker's
heartbeat and, on a miner, every Docker engine it runs executors on.

The checks run side by side in threads, each given READYZ_CHECK_TIMEOUT_S: a check that has not
answered by then is reported as `timeout` (its thread finishes on its own; each client below
carries the same timeout, so none lingers long). Every failure has a machine-readable `reason`
(`unreachable`, `timeout`, `stale`, `error`) and a one-line `detail`."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import docker
import redis
from django.conf import settings
from django.db import connections
from docker.utils import kwargs_from_env

from chain.client import chain_client
from config.roles import NodeRole, role_serves
from executor.services.hosts import executor_hosts_parse
from protocol.liveness import CeleryLiveness

_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="meshwork-readyz")


class CheckFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    ms: float
    reason: str = ""
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if not self.ok:
            data.update(reason=self.reason, detail=self.detail[:300])
        return data


def _database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        raise CheckFailed("unreachable", f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
    finally:
        connections.close_all()  # this thread's connections: the pool thread is reused


def _redis() -> None:
    timeout = settings.READYZ_CHECK_TIMEOUT_S
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise CheckFailed("unreachable", f"{settings.REDIS_URL}: {exc}") from exc
    finally:
        client.close()


def _chain() -> None:
    try:
        chain_client().current_block()
    except Exception as exc:
        raise CheckFailed("unreachable", f"{settings.CHAIN}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    finally:
        connections.close_all()  # LocalChain reads its database


def _celery() -> None:
    age = CeleryLiveness().age_s()
    if age is None:
        raise CheckFailed("stale", "no Celery worker heartbeat (is the worker running?)")
    if age > settings.CELERY_ALIVE_MAX_AGE_S:
        raise CheckFailed("stale", f"last Celery worker heartbeat {age:.0f}s ago")


def _docker_engine(url: str) -> Callable[[], None]:
    def check() -> None:
        kwargs: dict[str, Any] = kwargs_from_env() if url in ("", "local") else {"base_url": url}
        try:
            client = docker.APIClient(timeout=settings.READYZ_CHECK_TIMEOUT_S, **kwargs)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:
            raise CheckFailed("unreachable", f"docker engine {url}: {type(exc).__name__}: {exc}") from exc

    return check


def readiness_checks(role: NodeRole) -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {
        "database": _database,
        "redis": _redis,
        "chain": _chain,
        "celery": _celery,
    }
    if role_serves(role, NodeRole.MINER):
        for host in executor_hosts_parse(settings.MINER_EXECUTOR_HOSTS):
            checks[f"docker:{host.name}"] = _docker_engine(host.docker_url)
    return checks


def _timed(name: str, check: Callable[[], None]) -> CheckResult:
    started = time.monotonic()
    try:
        check()
    except CheckFailed as exc:
        return CheckResult(name, False, (time.monotonic() - started) * 1000, exc.reason, exc.detail)
    except Exception as exc:
        return CheckResult(name, False, (time.monotonic() - started) * 1000, "error", f"{type(exc).__name__}: {exc}")
    return CheckResult(name, True, (time.monotonic() - started) * 1000)


def readiness_run(checks: dict[str, Callable[[], None]]) -> list[CheckResult]:
    timeout = settings.READYZ_CHECK_TIMEOUT_S
    futures = {name: _POOL.submit(_timed, name, check) for name, check in checks.items()}
    deadline = time.monotonic() + timeout
    results = []
    for name, future in futures.items():
        try:
            results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            results.append(CheckResult(name, False, timeout * 1000, "timeout", f"no answer within {timeout:.1f}s"))
    return results

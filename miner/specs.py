"""Collecting every executor host's specs (at start-up and on a schedule) and publishing the
manifest they feed. A host that cannot be read is logged and keeps empty-ish specs; the miner
carries on."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from django.conf import settings

from executor.runtime.specs import host_specs_collect
from miner.models import ExecutorHost
from miner.selectors import executor_hosts_all
from miner.services.manifest import manifest_publish
from miner.services.specs import host_specs_store
from protocol.database import db_sync_to_async
from protocol.messages.manifest import HostSpecs

logger = logging.getLogger(__name__)


async def host_specs_refresh(*, owner: str) -> int:
    """Collects every host at once; returns how many were read without error."""
    hosts = await db_sync_to_async(executor_hosts_all)()
    results = await asyncio.gather(*(_refresh_one(host, owner) for host in hosts))
    await db_sync_to_async(manifest_publish)()
    return sum(results)


async def _refresh_one(host: ExecutorHost, owner: str) -> bool:
    try:
        specs, error = await host_specs_collect(
            docker_url=host.docker_url, image=settings.MINER_BENCH_IMAGE, owner=owner
        )
    except Exception as exc:  # collection never takes the miner down
        logger.exception("specs of executor host %s: collection crashed", host.name)
        specs, error = HostSpecs(cpu_cores=0, memory_mb=0, disk_mb=0), f"{type(exc).__name__}: {exc}"
    if error:
        logger.warning("specs of executor host %s: %s", host.name, error)
    await db_sync_to_async(host_specs_store)(host=host, specs=specs, error=error)
    return not error


def host_specs_refresh_sync(*, owner: str) -> int:
    return async_to_sync(host_specs_refresh)(owner=owner)

"""Docker engines: one docker-py client per engine URL, and the threads its blocking calls run on.

docker-py blocks, so every call runs in `DOCKER_POOL`. It is a dedicated pool rather than the
loop's default executor because `wait` holds a thread for a whole job (up to a day): a few running
jobs must not starve everything else in the miner that uses `to_thread`/`sync_to_async`."""

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker
from docker.utils import kwargs_from_env

T = TypeVar("T")

# Bounds every docker API call except `wait`, which gets the job's own deadline.
API_TIMEOUT_S = 60.0
# Threads start on demand; the cap is only a backstop against runaway concurrency.
DOCKER_POOL = ThreadPoolExecutor(max_workers=256, thread_name_prefix="meshwork-docker")


@functools.lru_cache(maxsize=64)
def docker_api(docker_url: str) -> docker.APIClient:
    """A client for "local" (DOCKER_HOST or the local socket) or an explicit URL. Cached: creating
    one negotiates the API version, a round trip not worth paying per job."""
    kwargs: dict[str, Any] = kwargs_from_env() if docker_url in ("", "local") else {"base_url": docker_url}
    return docker.APIClient(version="auto", timeout=API_TIMEOUT_S, max_pool_size=64, **kwargs)


def engine_shares_filesystem(docker_url: str) -> bool:
    """A unix-socket engine runs on this host, so paths here are paths there (bind mounts work).
    Assumed, not proven: an engine behind a forwarded socket (a VM) breaks it."""
    url = os.environ.get("DOCKER_HOST", "") if docker_url in ("", "local") else docker_url
    return url == "" or url.startswith("unix://")


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(DOCKER_POOL, functools.partial(fn, *args, **kwargs))

import logging

from executor.runtime.sweep import executor_sweep_leftovers
from miner.selectors import executor_hosts_all

logger = logging.getLogger(__name__)


def executor_hosts_sweep(*, owner: str) -> int:
    """Remove job containers a previous run of this miner left behind (after a crash)."""
    removed = 0
    for host in executor_hosts_all():
        try:
            removed += executor_sweep_leftovers(docker_url=host.docker_url, owner=owner)
        except Exception:
            logger.exception("could not sweep executor host %s", host.name)
    return removed

"""A rented machine's liveness, as the validator sees it (docs/rentals.md): its SSH banner read
every RENTAL_CHECK_INTERVAL_S while the rental runs (a TCP accept alone could be a docker-proxy
with nothing behind it); RENTAL_CHECK_MISSES misses in a row and the machine counts as gone, the
miner's fault. The endpoint must be the miner's own host or a public address: a miner cannot
point the validator at a private one."""

import ipaddress
import logging
import time

from django.conf import settings

from protocol.messages.jobs import JobStarted, SshEndpoint
from protocol.ssh_banner import NoBanner, ssh_banner_read

logger = logging.getLogger(__name__)


class BadEndpoint(Exception):
    """The miner announced no endpoint, or one the validator will not dial."""


def rental_endpoint_checked(started: JobStarted, *, miner_address: str) -> SshEndpoint:
    if started.ssh is None:
        raise BadEndpoint("the rental started without an SSH endpoint")
    host = started.ssh.host
    miner_host = miner_address.rsplit(":", 1)[0].strip("[]")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return started.ssh  # a name: the miner's DNS, its business
    if host != miner_host and not literal.is_global:
        raise BadEndpoint(f"{host} is neither the miner's host ({miner_host}) nor a public address")
    return started.ssh


class RentalWatch:
    def __init__(self, endpoint: SshEndpoint, *, now: float) -> None:
        self.endpoint = endpoint
        self.next_at: float = now + float(settings.RENTAL_CHECK_INTERVAL_S)
        self.misses = 0
        self.banner = ""

    def due(self, now: float) -> bool:
        return now >= self.next_at

    async def check(self) -> str | None:
        """None while the machine answers; the reason once it has missed too often."""
        try:
            self.banner = await ssh_banner_read(
                self.endpoint.host, self.endpoint.port, timeout=settings.RENTAL_CHECK_TIMEOUT_S
            )
            self.misses = 0
        except NoBanner as exc:
            self.misses += 1
            logger.info(
                "rental at %s:%s missed a check (%d): %s", self.endpoint.host, self.endpoint.port, self.misses, exc
            )
            if self.misses >= settings.RENTAL_CHECK_MISSES:
                return f"no SSH banner in {self.misses} checks in a row; last: {exc}"
        finally:
            self.next_at = time.monotonic() + float(settings.RENTAL_CHECK_INTERVAL_S)
        return None

"""validator/rental_watch.py: the endpoint a miner announces is dialled only if it is the miner's
own host or public; the banner is read on schedule and misses in a row give the machine up."""

import asyncio
import uuid

import pytest

from protocol.messages.jobs import JobStarted, SshEndpoint
from validator.rental_watch import BadEndpoint, RentalWatch, rental_endpoint_checked


def started(host: str | None) -> JobStarted:
    ssh = None if host is None else SshEndpoint(host=host, port=2200, user="meshwork")
    return JobStarted(job_uuid=uuid.uuid4(), ssh=ssh)


@pytest.mark.parametrize(
    ("host", "miner"), [("127.0.0.1", "127.0.0.1:8101"), ("8.8.8.8", "10.0.0.5:8101"), ("miner.example", "m:1")]
)
def test_the_miners_host_a_public_address_or_a_name_is_dialled(host: str, miner: str) -> None:
    assert rental_endpoint_checked(started(host), miner_address=miner).host == host


@pytest.mark.parametrize("host", ["10.0.0.9", "192.168.1.1", "127.0.0.1", "169.254.169.254"])
def test_a_private_address_not_the_miners_is_refused(host: str) -> None:
    with pytest.raises(BadEndpoint, match="neither the miner's host"):
        rental_endpoint_checked(started(host), miner_address="203.0.113.7:8101")


def test_a_rental_started_without_an_endpoint_is_refused() -> None:
    with pytest.raises(BadEndpoint, match="without an SSH endpoint"):
        rental_endpoint_checked(started(None), miner_address="127.0.0.1:1")


async def test_misses_in_a_row_give_the_machine_up_and_a_banner_resets_them(settings) -> None:
    settings.RENTAL_CHECK_INTERVAL_S, settings.RENTAL_CHECK_TIMEOUT_S, settings.RENTAL_CHECK_MISSES = 0.0, 0.3, 2
    answering = True

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if answering:
            writer.write(b"SSH-2.0-test\r\n")
            await writer.drain()
        try:
            await asyncio.sleep(1)
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    watch = RentalWatch(SshEndpoint(host="127.0.0.1", port=server.sockets[0].getsockname()[1], user="m"), now=0)
    try:
        assert watch.due(0.0)
        assert await watch.check() is None
        assert watch.banner == "SSH-2.0-test"
        answering = False  # accepts, says nothing: a frozen sshd
        assert await watch.check() is None  # one miss
        answering = True
        assert await watch.check() is None  # answered again: the count starts over
        answering = False
        assert await watch.check() is None
        gone = await watch.check()
        assert gone is not None
        assert gone.startswith("no SSH banner in 2 checks in a row")
    finally:
        server.close()
        await server.wait_closed()

"""protocol/ssh_banner.py: an SSH server is there only if its banner comes; a bare TCP accept, a
wrong first line, an endless line or silence are each a miss with the reason."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from protocol.ssh_banner import NoBanner, ssh_banner_read, ssh_banner_wait

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler) -> AsyncIterator[int]:
    """The port of a server running `handler`; its connections are done with before it returns."""
    tasks: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except asyncio.CancelledError:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def server_with(first: bytes | None, *, hold_s: float = 5.0) -> Callable[[], AsyncIterator[int]]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if first is not None:
            writer.write(first)
            await writer.drain()
        await asyncio.sleep(hold_s)
        writer.close()

    return lambda: _serve(handler)


async def test_an_ssh_banner_is_read() -> None:
    async for port in server_with(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")():
        assert await ssh_banner_read("127.0.0.1", port, timeout=2) == "SSH-2.0-OpenSSH_9.2p1 Debian-2"


async def test_an_accept_with_no_banner_is_a_miss() -> None:
    async for port in server_with(None)():
        with pytest.raises(NoBanner, match=r"no banner .* within 0.5 s"):
            await ssh_banner_read("127.0.0.1", port, timeout=0.5)


@pytest.mark.parametrize("first", [b"HTTP/1.1 400 Bad Request\r\n", b"220 smtp ready\r\n"])
async def test_another_protocol_is_not_ssh(first: bytes) -> None:
    async for port in server_with(first)():
        with pytest.raises(NoBanner, match="not an SSH banner"):
            await ssh_banner_read("127.0.0.1", port, timeout=2)


async def test_an_endless_first_line_is_read_no_further_than_the_limit() -> None:
    async for port in server_with(b"SSH-2.0-" + b"x" * 100_000)():
        with pytest.raises(NoBanner, match=r"ValueError|LimitOverrun"):
            await ssh_banner_read("127.0.0.1", port, timeout=2)


async def test_nothing_listening_is_a_miss() -> None:
    port = 0
    async for served in server_with(None, hold_s=0)():
        port = served
    with pytest.raises(NoBanner, match="ConnectionRefusedError"):
        await ssh_banner_read("127.0.0.1", port, timeout=2)


async def test_waiting_retries_until_the_server_is_up() -> None:
    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-late\r\n")
        await writer.drain()
        writer.close()

    probe = await asyncio.start_server(late, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()

    async def start_later() -> asyncio.Server:
        await asyncio.sleep(0.6)
        return await asyncio.start_server(late, "127.0.0.1", port)

    starting = asyncio.ensure_future(start_later())
    assert await ssh_banner_wait("127.0.0.1", port, deadline_s=5, attempt_s=0.3) == "SSH-2.0-late"
    (await starting).close()

"""Is an SSH server there? Its banner says so (RFC 4253 §4.2: the server sends
`SSH-protoversion-softwareversion` first); a TCP accept alone would also be a docker-proxy with
nothing behind it. Reads at most one line of 255 bytes: a peer cannot make us read more."""

import asyncio

MAX_BANNER_BYTES = 255


class NoBanner(Exception):
    """Nothing there, or not an SSH server; the message says which."""


async def ssh_banner_read(host: str, port: int, *, timeout: float) -> str:
    """The server's identification line (e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2`)."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, limit=MAX_BANNER_BYTES + 2)
            try:
                line = await reader.readline()
            finally:
                writer.close()
    except TimeoutError as exc:
        raise NoBanner(f"no banner from {host}:{port} within {timeout:g} s") from exc
    except (OSError, ValueError) as exc:  # refused, reset, or a line over the limit
        raise NoBanner(f"{host}:{port}: {type(exc).__name__}: {exc}") from exc
    text = line.decode("ascii", errors="replace").rstrip("\r\n")
    if not text.startswith("SSH-2.0-") and not text.startswith("SSH-1.99-"):
        raise NoBanner(f"{host}:{port} answered {text[:40]!r}, not an SSH banner")
    return text


async def ssh_banner_wait(host: str, port: int, *, deadline_s: float, attempt_s: float = 2.0) -> str:
    """Retries until a banner comes (a server still starting) or the deadline passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while True:
        try:
            return await ssh_banner_read(host, port, timeout=min(attempt_s, max(0.1, end - loop.time())))
        except NoBanner:
            if loop.time() >= end:
                raise
            await asyncio.sleep(0.2)

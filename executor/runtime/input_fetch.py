"""Fetching a job's URL input without making the miner a probe of its own network.

Each hop: parse the URL (protocol/input_urls.py), resolve its host once, refuse the hop when any
address it resolves to is not public or is this node's (input_addresses.py), then connect to the
checked address itself, sending the original name as Host header and TLS SNI (so certificates are
still verified against it). Nothing resolves the name again, so DNS rebinding cannot pass.
Redirects are followed here, each target checked the same way, at most
EXECUTOR_URL_MAX_REDIRECTS times. Proxies and .netrc credentials from the environment are ignored.

Limits: EXECUTOR_MAX_INPUT_BYTES on the body as it streams (a Content-Length over it is refused
before reading; a compressed body is refused, so there is no decompressed size to cap), timeouts
per connect and per read, and EXECUTOR_URL_FETCH_TIMEOUT_S on the whole fetch, redirects and DNS
included. Every failure is a job failure with a fixed reason and detail: nothing the server sent
(status, headers, body) and no resolved address reaches the user; the miner's log has them."""

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import IO

import httpx
from django.conf import settings

from executor.runtime.failures import InputInvalid, JobFailure
from executor.runtime.input_addresses import IPAddress, address_parse, address_refusal, own_addresses
from protocol.input_urls import BadInputUrl, input_url_parse
from protocol.messages.common import FailureReason

logger = logging.getLogger(__name__)

# (host, port) -> the addresses it resolves to, as text.
Resolve = Callable[[str, int], Awaitable[list[str]]]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_REFUSED = "the input URL's host is not a public address this node fetches from"
_UNREACHABLE = "the input URL's server did not deliver it"
_NO_NAME = "the input URL's host name does not resolve"
_TIMEOUT = "fetching the input URL took too long"
_COMPRESSED = "the input URL's server compressed the body (Content-Encoding): serve the zip as it is"


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def url_fetch(
    url: str, out: IO[bytes], *, resolve: Resolve = system_resolve, ssl_context: ssl.SSLContext | None = None
) -> None:
    """Writes the body at `url` to `out`, or raises JobFailure (see the module's docstring).
    `ssl_context` replaces the default trust store (the tests' own authority)."""
    deadline_s = settings.EXECUTOR_URL_FETCH_TIMEOUT_S
    connect_s = min(settings.EXECUTOR_URL_CONNECT_TIMEOUT_S, deadline_s)
    read_s = min(settings.EXECUTOR_URL_READ_TIMEOUT_S, deadline_s)
    timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s)
    try:
        async with (
            asyncio.timeout(deadline_s),
            httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, trust_env=False, verify=ssl_context or True
            ) as client,
        ):
            target = _parse(url)
            for _ in range(settings.EXECUTOR_URL_MAX_REDIRECTS + 1):
                location = await _hop(client, target, out, resolve)
                if location is None:
                    return
                target = _redirected(target, location)
            raise JobFailure(FailureReason.INPUT_UNREACHABLE, "the input URL redirects too many times")
    except (TimeoutError, httpx.TimeoutException) as exc:
        logger.info("input fetch %s timed out: %r", url, exc)
        raise JobFailure(FailureReason.INPUT_TIMEOUT, _TIMEOUT) from exc
    except httpx.HTTPError as exc:
        logger.info("input fetch %s failed: %r", url, exc)
        raise JobFailure(FailureReason.INPUT_UNREACHABLE, _UNREACHABLE) from exc


def _parse(url: str) -> httpx.URL:
    try:
        return input_url_parse(url)
    except BadInputUrl as exc:
        raise JobFailure(FailureReason.INPUT_BAD_URL, exc.detail) from exc


def _redirected(url: httpx.URL, location: str) -> httpx.URL:
    try:
        joined = url.join(location)
    except (httpx.InvalidURL, ValueError) as exc:
        raise JobFailure(FailureReason.INPUT_BAD_URL, "the input URL redirects to an invalid URL") from exc
    return _parse(str(joined))


async def _hop(client: httpx.AsyncClient, url: httpx.URL, out: IO[bytes], resolve: Resolve) -> str | None:
    """Fetches one URL into `out`; returns a redirect's Location instead, leaving `out` untouched."""
    addresses = await _checked_addresses(url, resolve)
    host = url.raw_host.decode("ascii")
    host_header = (f"[{host}]" if ":" in host else host) + ("" if url.port is None else f":{url.port}")
    headers = {"Host": host_header, "Accept-Encoding": "identity", "User-Agent": "meshwork-miner"}
    # TLS is verified against the name, not the address connected to.
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    for index, address in enumerate(addresses):
        pinned = url.copy_with(host=str(address))
        try:
            async with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
                return await _body(response, out)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
    raise AssertionError("unreachable: _checked_addresses returns at least one address")


async def _checked_addresses(url: httpx.URL, resolve: Resolve) -> list[IPAddress]:
    try:
        addresses = [address_parse(url.host)]
    except ValueError:
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = [address_parse(each) for each in await resolve(url.raw_host.decode("ascii"), port)]
        except (OSError, ValueError) as exc:
            logger.info("input fetch: %s does not resolve: %r", url.host, exc)
            raise JobFailure(FailureReason.INPUT_UNREACHABLE, _NO_NAME) from exc
    if not addresses:
        raise JobFailure(FailureReason.INPUT_UNREACHABLE, _NO_NAME)
    own = own_addresses(settings.INPUT_URL_OWN_ADDRESSES)
    for address in addresses:
        refusal = address_refusal(address, own=own, allowed=settings.INPUT_URL_ALLOWED_NETWORKS)
        if refusal is not None:
            logger.warning("input fetch: refused %s (%s): %s", url.host, address, refusal)
            raise JobFailure(FailureReason.INPUT_REFUSED_ADDRESS, _REFUSED)
    return addresses


async def _body(response: httpx.Response, out: IO[bytes]) -> str | None:
    if response.status_code in _REDIRECTS:
        location: str | None = response.headers.get("location")
        if not location:
            raise JobFailure(FailureReason.INPUT_UNREACHABLE, _UNREACHABLE)
        return location
    if response.status_code != 200:
        logger.info("input fetch: %s answered HTTP %s", response.request.url, response.status_code)
        raise JobFailure(FailureReason.INPUT_UNREACHABLE, _UNREACHABLE)
    if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        raise InputInvalid(_COMPRESSED)
    limit = settings.EXECUTOR_MAX_INPUT_BYTES
    too_large = JobFailure(FailureReason.INPUT_TOO_LARGE, f"the input is larger than {limit} bytes")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    received = 0
    # Raw bytes: nothing is decompressed, and a body longer than its Content-Length is h11's error.
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limit:
            raise too_large
        out.write(chunk)
    return None

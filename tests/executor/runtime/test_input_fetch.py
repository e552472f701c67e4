"""Fetching URL inputs from real local HTTP servers, with a fake resolver standing in for DNS (the
only thing that cannot exist here: a name that resolves to a public address, then to a private one).

127.0.0.1 plays the public Internet (INPUT_URL_ALLOWED_NETWORKS lets it through); 127.0.0.2 and
::1 are the private network that must stay out of reach."""

import asyncio
import gzip
import io
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from executor.runtime.failures import JobFailure
from executor.runtime.input_fetch import url_fetch
from protocol.messages.common import FailureKind, FailureReason
from tests.executor.runtime.input_server import Reply, Served, input_server
from tests.executor.runtime.tls_certs import tls_for

PUBLIC = "127.0.0.1"
PRIVATE = "127.0.0.2"


class FakeDns:
    """Answers each name with the next of its scripted answers (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        script = self.answers.get(host)
        if script is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return script.pop(0) if len(script) > 1 else script[0]


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.INPUT_URL_ALLOWED_NETWORKS = (ipaddress.ip_network(f"{PUBLIC}/32"),)
    settings.INPUT_URL_OWN_ADDRESSES = ()
    settings.EXECUTOR_MAX_INPUT_BYTES = 1000
    settings.EXECUTOR_URL_FETCH_TIMEOUT_S = 10.0


@pytest.fixture
def private() -> Iterator[Served]:
    """The private service an attacker is after; no test may ever reach it."""
    with input_server({"/secret": Reply(body=b"private data")}, host=PRIVATE) as served:
        yield served
    assert served.requests == []


async def _fetch(url: str, dns: FakeDns | None = None) -> bytes:
    out = io.BytesIO()
    if dns is None:
        await url_fetch(url, out)
    else:
        await url_fetch(url, out, resolve=dns)
    return out.getvalue()


async def _failure(url: str, dns: FakeDns | None = None) -> JobFailure:
    with pytest.raises(JobFailure) as caught:
        await _fetch(url, dns)
    assert caught.value.reason.kind is FailureKind.JOB  # the user's URL: never retried elsewhere
    return caught.value


async def test_a_public_host_is_fetched_with_its_name_as_host_header() -> None:
    with input_server({"/in.zip": Reply(body=b"zip bytes")}) as public:
        dns = FakeDns({"files.example": [[PUBLIC]]})
        assert await _fetch(f"http://files.example:{public.port}/in.zip", dns) == b"zip bytes"
    assert public.requests == [("/in.zip", f"files.example:{public.port}")]
    assert dns.asked == [("files.example", public.port)]


async def test_loopback_is_refused_without_the_allowlist(settings: Any) -> None:
    settings.INPUT_URL_ALLOWED_NETWORKS = ()
    with input_server({"/api/v1/account/": Reply(status=401, body=b"no")}) as local:
        failure = await _failure(f"{local.base}/api/v1/account/")
    assert failure.reason is FailureReason.INPUT_REFUSED_ADDRESS
    assert local.requests == []


@pytest.mark.parametrize(
    "answer",
    [
        [PRIVATE],
        ["::1"],
        ["169.254.169.254"],
        ["10.0.0.7"],
        ["fd00::7"],
        ["::ffff:127.0.0.2"],
        [PUBLIC, PRIVATE],  # every address is checked, not only the first
    ],
)
async def test_a_name_resolving_to_a_refused_address_is_refused(answer: list[str], private: Served) -> None:
    failure = await _failure(f"http://internal.example:{private.port}/secret", FakeDns({"internal.example": [answer]}))
    assert failure.reason is FailureReason.INPUT_REFUSED_ADDRESS
    assert failure.detail == "the input URL's host is not a public address this node fetches from"


async def test_the_nodes_own_configured_address_is_refused(settings: Any) -> None:
    settings.INPUT_URL_ALLOWED_NETWORKS = ()
    settings.INPUT_URL_OWN_ADDRESSES = (ipaddress.ip_network("203.0.114.9/32"),)
    failure = await _failure("http://me.example/x", FakeDns({"me.example": [["203.0.114.9"]]}))
    assert failure.reason is FailureReason.INPUT_REFUSED_ADDRESS


async def test_dns_rebinding_cannot_switch_the_address_after_the_check(private: Served) -> None:
    # The name answers public first, private afterwards: the fetch connects to the address it
    # checked and never asks again, so the private server (same port) is not reached.
    with input_server({"/in.zip": Reply(body=b"public data")}, port=private.port) as public:
        dns = FakeDns({"rebind.example": [[PUBLIC], [PRIVATE]]})
        assert await _fetch(f"http://rebind.example:{private.port}/in.zip", dns) == b"public data"
    assert len(dns.asked) == 1
    assert len(public.requests) == 1


async def test_a_redirect_to_the_same_name_is_resolved_and_checked_again(private: Served) -> None:
    routes = {"/in.zip": Reply(status=302, headers={"Location": "/secret"})}
    with input_server(routes, port=private.port):
        dns = FakeDns({"rebind.example": [[PUBLIC], [PRIVATE]]})
        failure = await _failure(f"http://rebind.example:{private.port}/in.zip", dns)
    assert failure.reason is FailureReason.INPUT_REFUSED_ADDRESS
    assert len(dns.asked) == 2


@pytest.mark.parametrize("target", [f"http://{PRIVATE}:{{port}}/secret", "http://[::1]:{port}/secret"])
async def test_a_redirect_to_loopback_is_refused(target: str, private: Served) -> None:
    location = target.format(port=private.port)
    with input_server({"/in.zip": Reply(status=301, headers={"Location": location})}) as public:
        failure = await _failure(f"{public.base}/in.zip")
    assert failure.reason is FailureReason.INPUT_REFUSED_ADDRESS


async def test_redirects_are_followed_to_a_public_host() -> None:
    with input_server({"/final.zip": Reply(body=b"at last")}) as final:
        routes = {"/in.zip": Reply(status=307, headers={"Location": f"http://cdn.example:{final.port}/final.zip"})}
        with input_server(routes) as first:
            dns = FakeDns({"cdn.example": [[PUBLIC]]})
            assert await _fetch(f"{first.base}/in.zip", dns) == b"at last"
    assert final.requests == [("/final.zip", f"cdn.example:{final.port}")]


async def test_a_redirect_loop_stops_at_the_bound(settings: Any) -> None:
    settings.EXECUTOR_URL_MAX_REDIRECTS = 3
    with input_server({"/loop": Reply(status=302, headers={"Location": "/loop"})}) as server:
        failure = await _failure(f"{server.base}/loop")
    assert (failure.reason, failure.detail) == (
        FailureReason.INPUT_UNREACHABLE,
        "the input URL redirects too many times",
    )
    assert len(server.requests) == 4


@pytest.mark.parametrize("location", ["ftp://example.com/x", "http://user:pw@example.com/x"])
async def test_a_redirect_to_a_bad_url_is_input_bad_url(location: str) -> None:
    with input_server({"/in.zip": Reply(status=302, headers={"Location": location})}) as server:
        failure = await _failure(f"{server.base}/in.zip")
    assert failure.reason is FailureReason.INPUT_BAD_URL


@pytest.mark.parametrize("url", ["ftp://files.example/x", "http://u:p@files.example/x", "http://files.example:0/"])
async def test_a_bad_url_is_refused_before_any_lookup(url: str) -> None:
    dns = FakeDns({"files.example": [[PUBLIC]]})
    assert (await _failure(url, dns)).reason is FailureReason.INPUT_BAD_URL
    assert dns.asked == []


@pytest.mark.parametrize("status", [401, 403, 404, 500, 204])
async def test_an_error_status_never_reaches_the_detail(status: int) -> None:
    reply = Reply(status=status, body=b"SECRET-BODY token=abc", headers={"X-Secret": "SECRET-HEADER"})
    with input_server({"/api/v1/account/": reply}) as server:
        failure = await _failure(f"{server.base}/api/v1/account/")
    assert (failure.reason, failure.detail) == (
        FailureReason.INPUT_UNREACHABLE,
        "the input URL's server did not deliver it",
    )
    assert str(status) not in str(failure)
    assert "SECRET" not in str(failure)


async def test_a_name_that_does_not_resolve_is_unreachable() -> None:
    failure = await _failure("http://nowhere.example/in.zip", FakeDns({}))
    assert (failure.reason, failure.detail) == (
        FailureReason.INPUT_UNREACHABLE,
        "the input URL's host name does not resolve",
    )


async def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind((PUBLIC, 0))
        port = probe.getsockname()[1]
    failure = await _failure(f"http://{PUBLIC}:{port}/in.zip")
    assert failure.reason is FailureReason.INPUT_UNREACHABLE


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"x" * 5000),  # refused on its Content-Length, before reading
        Reply(body=b"x" * 5000, content_length=False),  # counted as it streams, stopped at the cap
    ],
    ids=["declared", "undeclared"],
)
async def test_a_body_over_the_limit_is_too_large(reply: Reply) -> None:
    with input_server({"/big.zip": reply}) as server:
        out = io.BytesIO()
        with pytest.raises(JobFailure) as caught:
            await url_fetch(f"{server.base}/big.zip", out)
    assert (caught.value.reason, caught.value.detail) == (
        FailureReason.INPUT_TOO_LARGE,
        "the input is larger than 1000 bytes",
    )
    assert out.getbuffer().nbytes <= 1000


async def test_a_body_longer_than_its_content_length_is_cut_at_it() -> None:
    reply = Reply(body=b"a" * 100 + b"b" * 5000, headers={"Content-Length": "100"}, content_length=False)
    with input_server({"/in.zip": reply}) as server:
        assert await _fetch(f"{server.base}/in.zip") == b"a" * 100


@pytest.mark.parametrize("length", ["-5", "12abc", "1, 2"])
async def test_a_malformed_content_length_is_unreachable(length: str) -> None:
    reply = Reply(body=b"x" * 10, headers={"Content-Length": length}, content_length=False)
    with input_server({"/in.zip": reply}) as server:
        assert (await _failure(f"{server.base}/in.zip")).reason is FailureReason.INPUT_UNREACHABLE


async def test_a_compressed_body_is_refused_not_inflated() -> None:
    bomb = gzip.compress(b"\0" * 10_000_000)  # ~10 KB that would inflate to 10 MB
    reply = Reply(body=bomb[:900], headers={"Content-Encoding": "gzip"})
    with input_server({"/in.zip": reply}) as server:
        failure = await _failure(f"{server.base}/in.zip")
    assert failure.reason is FailureReason.INPUT_INVALID
    assert "Content-Encoding" in failure.detail


async def test_a_slow_drip_is_stopped_by_the_whole_fetch_deadline(settings: Any) -> None:
    settings.EXECUTOR_URL_FETCH_TIMEOUT_S = 1.0  # each byte comes well within the read timeout
    loop = asyncio.get_running_loop()
    with input_server({"/drip.zip": Reply(body=b"x" * 40, drip_s=0.1)}) as server:
        started = loop.time()
        failure = await _failure(f"{server.base}/drip.zip")
        elapsed = loop.time() - started
    assert (failure.reason, failure.detail) == (FailureReason.INPUT_TIMEOUT, "fetching the input URL took too long")
    assert elapsed < 3.5


async def test_a_server_silent_past_the_read_timeout_is_a_timeout(settings: Any) -> None:
    settings.EXECUTOR_URL_READ_TIMEOUT_S = 0.3
    with input_server({"/stall.zip": Reply(body=b"xy", drip_s=2.0)}) as server:
        failure = await _failure(f"{server.base}/stall.zip")
    assert failure.reason is FailureReason.INPUT_TIMEOUT


async def test_https_connects_to_the_checked_address_and_verifies_the_name(tmp_path: Path) -> None:
    tls = tls_for("files.example", tmp_path)
    with input_server({"/in.zip": Reply(body=b"over tls")}, tls=tls.server) as server:
        out = io.BytesIO()
        dns = FakeDns({"files.example": [[PUBLIC]]})
        await url_fetch(f"https://files.example:{server.port}/in.zip", out, resolve=dns, ssl_context=tls.client)
    assert out.getvalue() == b"over tls"
    assert tls.sni_seen == ["files.example"]  # the name, not the address connected to
    assert server.requests == [("/in.zip", f"files.example:{server.port}")]


async def test_https_with_a_certificate_for_another_name_is_unreachable(tmp_path: Path) -> None:
    tls = tls_for("other.example", tmp_path)
    with input_server({"/in.zip": Reply(body=b"over tls")}, tls=tls.server) as server:
        dns = FakeDns({"files.example": [[PUBLIC]]})
        with pytest.raises(JobFailure) as caught:
            await url_fetch(
                f"https://files.example:{server.port}/in.zip", io.BytesIO(), resolve=dns, ssl_context=tls.client
            )
    assert caught.value.reason is FailureReason.INPUT_UNREACHABLE
    assert server.requests == []

"""One miner's pages, against real HTTP on loopback: every bound holds and fails with its reason,
and no detail relays what the miner sent."""

import asyncio
import gzip
import json
import socket
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.validator.receipts.miner_server import MinerServer, Reply, json_reply, paged
from validator.receipts.fetch import PullBounds, PullFailure, PullFailureReason, receipt_pages, receipts_url

pytestmark = pytest.mark.usefixtures("pull_settings")
details: list[str] = []  # every failure's detail, newest last


@pytest.fixture(autouse=True)
def _details_never_relay_the_body() -> Iterator[None]:
    yield
    assert not [d for d in details if SECRET in d]


SECRET = "s3cret-miner-text"  # what a hostile body says: it must never reach a detail


async def _pages(address: str, *, cursor: str = "") -> tuple[list[Any], PullFailureReason | None]:
    pages = []
    async with httpx.AsyncClient(trust_env=False) as client:
        try:
            async for page in receipt_pages(
                client, address=address, cursor=cursor, since=datetime.now(UTC), bounds=PullBounds.from_settings()
            ):
                pages.append(page)
        except PullFailure as exc:
            details.append(exc.detail)
            return pages, exc.reason
    return pages, None


def _fixed(reply: Reply) -> Any:
    async def handle(query: dict[str, str]) -> Reply:
        return reply

    return handle


async def test_an_honest_miner_is_read_page_after_page_from_the_cursor(miner_server: MinerServer) -> None:
    items = [{"n": i} for i in range(10)]
    url = miner_server.add("honest", paged(items, size=4))
    pages, failure = await _pages(url)
    assert failure is None
    assert [(p.cursor, p.next, len(p.items)) for p in pages] == [("", "4", 4), ("4", "8", 4), ("8", None, 2)]
    assert "since" in miner_server.requests["honest"][0]
    assert [q.get("cursor") for q in miner_server.requests["honest"]] == [None, "4", "8"]

    pages, failure = await _pages(url, cursor="8")  # resumes where it stopped, no `since`
    assert failure is None
    assert len(pages) == 1
    assert miner_server.requests["honest"][-1] == {"cursor": "8"}


async def test_a_slow_miner_times_out_within_the_request_bound(miner_server: MinerServer) -> None:
    url = miner_server.add("slow", _fixed(Reply(body=b"{}", delay_s=30)))
    pages, failure = await _pages(url)
    assert pages == []
    assert failure == PullFailureReason.TIMEOUT


async def test_a_trickling_body_times_out_though_every_read_gets_a_byte(miner_server: MinerServer) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"results": ['
        while True:
            await asyncio.sleep(0.1)  # well inside httpx's per-read timeout
            yield b" "

    url = miner_server.add("trickle", _fixed(Reply(stream=trickle)))
    _, failure = await _pages(url)
    assert failure == PullFailureReason.TIMEOUT


async def test_the_whole_pull_has_a_deadline_and_keeps_the_pages_before_it(
    miner_server: MinerServer, settings: Any
) -> None:
    settings.VALIDATOR_RECEIPT_PULL_MAX_PAGES = 50

    async def slowish(query: dict[str, str]) -> Reply:
        n = int(query.get("cursor", "0"))
        return Reply(body=json.dumps({"results": [], "next": str(n + 1)}).encode(), delay_s=0.3)

    url = miner_server.add("slowish", slowish)
    pages, failure = await _pages(url)  # 0.3 s a page, 2 s in all: stops long before 50 pages
    assert failure == PullFailureReason.DEADLINE
    assert 3 <= len(pages) < 10


async def test_a_huge_body_is_cut_at_the_limit_and_never_held(miner_server: MinerServer, settings: Any) -> None:
    chunk = b"[" * 65536

    async def huge() -> AsyncIterator[bytes]:
        for _ in range(4096):  # 256 MiB if anyone read it all
            yield chunk

    url = miner_server.add("huge", _fixed(Reply(stream=huge)))
    tracemalloc.start()
    try:
        _, failure = await _pages(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert failure == PullFailureReason.TOO_LARGE
    assert peak < 16 * settings.VALIDATOR_RECEIPT_PULL_MAX_BYTES  # 1 MiB, against 256 MiB offered
    assert miner_server.sent["huge"] < 64 * 1024 * 1024  # the reader hung up long before the end


async def test_a_declared_huge_body_is_refused_unread(miner_server: MinerServer) -> None:
    url = miner_server.add("declared", _fixed(Reply(body=b"x" * 100, headers={"Content-Length": str(10**9)})))
    _, failure = await _pages(url)
    assert failure == PullFailureReason.TOO_LARGE


async def test_a_compressed_body_is_refused_a_zip_bomb_never_expands(miner_server: MinerServer) -> None:
    bomb = gzip.compress(b" " * (50 * 1024 * 1024))  # 50 KiB on the wire, 50 MiB expanded
    url = miner_server.add("gzip", _fixed(Reply(body=bomb, headers={"Content-Encoding": "gzip"})))
    _, failure = await _pages(url)
    assert failure == PullFailureReason.MALFORMED


async def test_a_cursor_loop_is_endless(miner_server: MinerServer) -> None:
    url = miner_server.add("loop", _fixed(json_reply({"results": [], "next": "again"})))
    pages, failure = await _pages(url)
    assert failure == PullFailureReason.ENDLESS
    assert len(pages) == 2  # the first `again`, then `again` repeated


async def test_ever_new_cursors_stop_at_the_page_bound(miner_server: MinerServer) -> None:
    async def fresh(query: dict[str, str]) -> Reply:
        return json_reply({"results": [], "next": str(int(query.get("cursor", "0")) + 1)})

    url = miner_server.add("fresh", fresh)
    pages, failure = await _pages(url)
    assert failure == PullFailureReason.MAX_PAGES
    assert len(pages) == len(miner_server.requests["fresh"]) == 5


@pytest.mark.parametrize(
    "body",
    [
        b"not json " + SECRET.encode(),
        json.dumps({"results": SECRET}).encode(),
        json.dumps([SECRET]).encode(),
        json.dumps({"results": [], "next": 7}).encode(),
        json.dumps({"results": [], "next": "c" * 201}).encode(),
        json.dumps({"results": [{}] * 1001}).encode(),
        b"\xff\xfe" + SECRET.encode(),
        b"[" * 50_000,
    ],
    ids=[
        "not-json",
        "results-not-a-list",
        "not-an-object",
        "next-not-str",
        "next-too-long",
        "1001",
        "bad-utf8",
        "deep",
    ],
)
async def test_garbage_is_malformed(miner_server: MinerServer, body: bytes) -> None:
    url = miner_server.add("garbage", _fixed(Reply(body=body)))
    _, failure = await _pages(url)
    assert failure == PullFailureReason.MALFORMED


async def test_an_error_status_is_recorded_without_the_body(miner_server: MinerServer) -> None:
    url = miner_server.add("broken", _fixed(Reply(status=500, body=SECRET.encode())))
    _, failure = await _pages(url)
    assert failure == PullFailureReason.HTTP_STATUS
    assert details[-1] == "HTTP 500"


async def test_a_redirect_is_not_followed(miner_server: MinerServer) -> None:
    url = miner_server.add("redirect", _fixed(Reply(status=302, headers={"Location": "http://example.com/"})))
    _, failure = await _pages(url)
    assert failure == PullFailureReason.HTTP_STATUS


async def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free now, and nobody listens on it
    _, failure = await _pages(f"127.0.0.1:{port}")
    assert failure == PullFailureReason.UNREACHABLE


@pytest.mark.parametrize("address", ["ftp://127.0.0.1:1", "file:///etc/passwd", "http://" + "a" * 400])
async def test_an_address_that_is_not_http_is_refused_undialed(address: str) -> None:
    _, failure = await _pages(address)
    assert failure == PullFailureReason.BAD_ADDRESS


def test_host_port_addresses_are_plain_http_base_urls() -> None:
    assert receipts_url("127.0.0.1:8000") == "http://127.0.0.1:8000/api/v1/receipts/"
    assert receipts_url("https://miner.example/") == "https://miner.example/api/v1/receipts/"


def test_host_port_addresses_are_https_when_the_network_uses_tls(settings) -> None:
    settings.TLS_PEERS = True
    assert receipts_url("127.0.0.1:8000") == "https://127.0.0.1:8000/api/v1/receipts/"
    assert receipts_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/api/v1/receipts/"  # as announced

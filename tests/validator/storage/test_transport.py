import gzip
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.validator.storage.conftest import ChunkedBody, FakeNet
from validator.storage import transport
from validator.storage.transport import (
    TransportFailure,
    facilitator_base_url,
    miner_base_url,
    miner_space_available,
    share_get,
    share_put,
)


def serve(monkeypatch: pytest.MonkeyPatch, handler: Any) -> None:
    monkeypatch.setattr(transport, "http_transport", httpx.MockTransport(handler))


def test_oversized_body_is_cut_while_streaming(net: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = net.add_miner().miner
    hostile = ChunkedBody(b"\0" * (32 * 1024 * 1024), piece=64 * 1024)
    serve(monkeypatch, lambda request: httpx.Response(200, stream=hostile))
    with pytest.raises(TransportFailure) as caught:
        share_get(miner=miner, share_id=uuid4(), size=100_000)
    assert caught.value.reason == "too_large"
    assert hostile.sent <= 100_000 + 64 * 1024  # stopped one piece past the bound, not at 32 MiB


def test_short_share_is_malformed(net: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = net.add_miner().miner
    serve(monkeypatch, lambda request: httpx.Response(200, stream=ChunkedBody(b"abc")))
    with pytest.raises(TransportFailure) as caught:
        share_get(miner=miner, share_id=uuid4(), size=10)
    assert caught.value.reason == "malformed"


def test_compressed_body_is_refused(net: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = net.add_miner().miner
    bomb = gzip.compress(b"\0" * 1_000_000)
    serve(
        monkeypatch,
        lambda request: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=ChunkedBody(bomb)),
    )
    with pytest.raises(TransportFailure) as caught:
        share_get(miner=miner, share_id=uuid4(), size=1_000_000)
    assert caught.value.reason in ("malformed", "too_large")


@pytest.mark.parametrize(
    ("status", "reason"),
    [(507, "no_space"), (409, "refused"), (413, "refused"), (400, "refused"), (500, "http_status")],
)
def test_put_refusals(net: FakeNet, monkeypatch: pytest.MonkeyPatch, status: int, reason: str) -> None:
    miner = net.add_miner().miner
    serve(monkeypatch, lambda request: httpx.Response(status, stream=ChunkedBody(b'{"reason": "quota_exceeded"}')))
    with pytest.raises(TransportFailure) as caught:
        share_put(miner=miner, share_id=uuid4(), sealed=b"x", root_hex="ab" * 32, chunk_bytes=1024)
    assert caught.value.reason == reason
    assert caught.value.status_code == status


def test_put_acknowledging_another_root_is_malformed(net: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = net.add_miner().miner
    body = b'{"share_id": "x", "size": 1, "root": "' + b"cd" * 32 + b'"}'
    serve(monkeypatch, lambda request: httpx.Response(201, stream=ChunkedBody(body)))
    with pytest.raises(TransportFailure) as caught:
        share_put(miner=miner, share_id=uuid4(), sealed=b"x", root_hex="ab" * 32, chunk_bytes=1024)
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"available_bytes": -1}', b'{"available_bytes": true}'])
def test_space_malformed(net: FakeNet, monkeypatch: pytest.MonkeyPatch, body: bytes) -> None:
    miner = net.add_miner().miner
    serve(monkeypatch, lambda request: httpx.Response(200, stream=ChunkedBody(body)))
    with pytest.raises(TransportFailure) as caught:
        miner_space_available(miner=miner)
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize(("error", "reason"), [(httpx.ReadTimeout, "timeout"), (httpx.ConnectError, "unreachable")])
def test_network_failures(net: FakeNet, monkeypatch: pytest.MonkeyPatch, error: type[Exception], reason: str) -> None:
    miner = net.add_miner().miner

    def fail(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)  # type: ignore[call-arg]

    serve(monkeypatch, fail)
    with pytest.raises(TransportFailure) as caught:
        miner_space_available(miner=miner)
    assert caught.value.reason == reason


def test_base_urls(settings: Any) -> None:
    settings.TLS_PEERS = True
    assert miner_base_url("10.0.0.1:9000") == "https://10.0.0.1:9000"
    settings.TLS_PEERS = False
    assert miner_base_url("10.0.0.1:9000/") == "http://10.0.0.1:9000"
    with pytest.raises(TransportFailure):
        miner_base_url("ftp://x")
    settings.FACILITATOR_URL = "wss://fac.example:8443/v1/"
    assert facilitator_base_url() == "https://fac.example:8443"
    settings.FACILITATOR_URL = "ws://facilitator:8000/"
    assert facilitator_base_url() == "http://facilitator:8000"


class Trickle(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        for _ in range(40):
            time.sleep(0.05)
            yield b"x"


def test_a_trickling_body_times_out(net: FakeNet, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.STORAGE_HTTP_TIMEOUT_S = 0.3  # each read is quick; the body as a whole is not
    miner = net.add_miner().miner
    serve(monkeypatch, lambda request: httpx.Response(200, stream=Trickle()))
    started = time.monotonic()
    with pytest.raises(TransportFailure) as caught:
        share_get(miner=miner, share_id=uuid4(), size=40)
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 1.5

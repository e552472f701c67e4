"""A fake storage network for the validator's storage loop: miners and the facilitator behind one
httpx.MockTransport that follow docs/storage.md (and check every request's signature), plus
stand-ins for protocol/storage's primitives while they are still unimplemented."""

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from protocol.keys import Hotkey
from protocol.signed_http import signed_request_verify
from protocol.storage import envelope, erasure, proofs, seal
from protocol.storage.audit import AuditChallenge, audit_answer_build
from tests.validator.factories import MinerFactory
from validator.models import Miner, MinerManifest
from validator.storage import codec, placement, retrieval, transport

FACILITATOR_HOTKEY = "5Facilitator000000000000000000000000000000000"
FACILITATOR_PORT = 18000


class ChunkedBody(httpx.SyncByteStream):
    """A body streamed in pieces, as from a socket (httpx reads a bytes `content` eagerly)."""

    def __init__(self, data: bytes, piece: int = 64 * 1024) -> None:
        self.data, self.piece = data, piece
        self.sent = 0  # bytes the reader pulled: shows a cut body was not read to its end

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), self.piece):
            self.sent = start + self.piece
            yield self.data[start : start + self.piece]


def streamed(status: int, data: bytes) -> httpx.Response:
    return httpx.Response(status, stream=ChunkedBody(data))


def json_body(status: int, data: object) -> httpx.Response:
    return streamed(status, json.dumps(data).encode())


@dataclass
class FakeMiner:
    miner: Miner
    available: int = 1 << 30
    shares: dict[str, bytes] = field(default_factory=dict)
    put_status: int | None = None  # a refusal instead of a store (e.g. 507)
    down: bool = False
    tamper: bool = False  # serves each share with its first byte flipped
    body_override: bytes | None = None  # served instead of any share (a hostile miner)
    chunk_bytes: dict[str, int] = field(default_factory=dict)
    # How it answers audits: honest | zeros (regenerates bytes it dropped) | copy (serves `copy_from`'s
    # share instead of its own) | slow (after `delay_s`) | garbage | huge
    audit_mode: str = "honest"
    copy_from: "FakeMiner | None" = None
    delay_s: float = 0.0


@dataclass
class FakeNet:
    miners: dict[int, FakeMiner] = field(default_factory=dict)
    staged: dict[str, bytes] = field(default_factory=dict)
    retrieved: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def add_miner(self, *, coldkey: str | None = None, declared: int = 1 << 30, **kw: Any) -> FakeMiner:
        miner = MinerFactory.create(**({"coldkey": coldkey} if coldkey else {}))
        storage = {"capacity_bytes": declared, "used_bytes": 0}
        MinerManifest.objects.create(miner=miner, payload={"hosts": [{"name": "h", "storage": storage}]}, digest="d")
        fake = FakeMiner(miner=miner, **kw)
        self.miners[int(miner.address.rsplit(":", 1)[1])] = fake
        return fake

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        body = request.read()
        if request.url.port == FACILITATOR_PORT:
            self._verify(request, body, FACILITATOR_HOTKEY)
            return self._facilitator(request, body)
        fake = self.miners[request.url.port or 80]
        if fake.down:
            raise httpx.ConnectError("down", request=request)
        self._verify(request, body, fake.miner.hotkey)
        return self._miner(fake, request, body)

    @staticmethod
    def _verify(request: httpx.Request, body: bytes, own: str) -> None:
        signed_request_verify(
            headers=request.headers,
            method=request.method,
            path=request.url.raw_path.decode(),
            body_sha256=hashlib.sha256(body).hexdigest(),
            own_hotkey=own,
            remember=lambda key, ttl: True,
            max_skew_s=60,
        )

    def _facilitator(self, request: httpx.Request, body: bytes) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path in self.staged:
            return streamed(200, self.staged[path])
        if request.method == "PUT":
            self.retrieved[path] = body
            return streamed(204, b"")
        return streamed(404, b"")

    @staticmethod
    def _miner(fake: FakeMiner, request: httpx.Request, body: bytes) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/storage/space/":
            return json_body(200, {"available_bytes": fake.available})
        share_id = path.removeprefix("/api/v1/storage/shares/").strip("/")
        if share_id.endswith("/audit"):
            return _audit_answer(fake, share_id.removesuffix("/audit"), body)
        if request.method == "PUT":
            if fake.put_status is not None:
                return json_body(fake.put_status, {"reason": "no_space"})
            root = request.url.params["root"]
            fake.shares[share_id] = body
            fake.chunk_bytes[share_id] = int(request.url.params["chunk_bytes"])
            return json_body(201, {"share_id": share_id, "size": len(body), "root": root})
        if request.method == "GET":
            if fake.body_override is not None:
                return streamed(200, fake.body_override)
            if share_id not in fake.shares:
                return streamed(404, b"")
            data = fake.shares[share_id]
            return streamed(200, (bytes([data[0] ^ 1]) + data[1:]) if fake.tamper and data else data)
        fake.shares.pop(share_id, None)
        return streamed(204, b"")


def _audit_answer(fake: FakeMiner, share_id: str, body: bytes) -> httpx.Response:
    if share_id not in fake.shares:
        return json_body(404, {"reason": "missing"})
    if fake.audit_mode == "garbage":
        return streamed(200, b"{not json")
    if fake.audit_mode == "huge":
        return streamed(200, b"x" * (64 * 1024 * 1024))
    if fake.audit_mode == "slow":
        time.sleep(fake.delay_s)
    chunk = fake.chunk_bytes[share_id]
    data = fake.shares[share_id]
    if fake.audit_mode == "zeros":
        data = bytes(len(data))
    if fake.audit_mode == "copy" and fake.copy_from is not None:
        data = next(iter(fake.copy_from.shares.values()))
    leaves = proofs.share_leaves(data, chunk_bytes=chunk)
    challenge = AuditChallenge.model_validate_json(body)
    answer = audit_answer_build(challenge, leaves=leaves, read_chunk=lambda i: data[i * chunk : (i + 1) * chunk])
    return json_body(200, answer.model_dump(mode="json"))


def _keystream_xor(data: bytes, *, key: bytes) -> bytes:
    stream = b"".join(hashlib.sha256(key + i.to_bytes(8, "big")).digest() for i in range(len(data) // 32 + 1))
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def _stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simple correct primitives (replicating 'erasure', hash keystream) with protocol/storage's signatures."""

    def encrypt(plaintext: bytes, *, object_id: Any) -> tuple[bytes, bytes]:
        key, nonce = os.urandom(32), os.urandom(12)
        return key, nonce + AESGCM(key).encrypt(nonce, plaintext, object_id.bytes)

    def decrypt(ciphertext: bytes, *, key: bytes, object_id: Any) -> bytes:
        try:
            return AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], object_id.bytes)
        except Exception as exc:
            raise envelope.ObjectCorrupt("tag") from exc

    def decode(shares: dict[int, bytes], *, k: int, n: int, size: int) -> bytes:
        if len(shares) < k:
            raise erasure.NotEnoughShares("few")
        return next(iter(shares.values()))[:size]

    def leaves(data: bytes, *, chunk_bytes: int) -> list[bytes]:
        return [hashlib.sha256(data[i : i + chunk_bytes]).digest() for i in range(0, max(len(data), 1), chunk_bytes)]

    fakes: dict[tuple[Any, str], Callable[..., Any]] = {
        (placement, "object_encrypt"): encrypt,
        (retrieval, "object_decrypt"): decrypt,
        (placement, "key_wrap"): lambda key, *, secret: aes_key_wrap(secret, key),
        (retrieval, "key_unwrap"): lambda wrapped, *, secret: aes_key_unwrap(secret, wrapped),
        (placement, "shares_encode"): lambda data, *, k, n: [data or b"\0"] * n,
        (retrieval, "shares_decode"): decode,
        (codec, "seal_key"): lambda secret, *, share_id, miner_hotkey: hashlib.sha256(
            secret + share_id.bytes + miner_hotkey.encode()
        ).digest(),
        (codec, "share_seal"): lambda share, *, key: _keystream_xor(share, key=key),
        (codec, "share_leaves"): leaves,
        (codec, "share_root"): lambda ls: hashlib.sha256(b"".join(ls)).digest(),
        (codec, "storage_secret_load_or_create"): lambda path: hashlib.sha256(str(path).encode()).digest(),
    }
    for (module, name), fake in fakes.items():
        monkeypatch.setattr(module, name, fake)


def _implemented() -> bool:
    try:
        erasure.share_size(1, k=1)
        seal.seal_key(b"\0" * 32, share_id=uuid4(), miner_hotkey="x")
        proofs.chunk_count(1, chunk_bytes=1)
        envelope.key_wrap(b"\0" * 32, secret=b"\0" * 32)
    except NotImplementedError:
        return False
    return True


@pytest.fixture
def net(
    db: None, node_key: Hotkey, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeNet]:
    settings.FACILITATOR_URL = f"ws://127.0.0.1:{FACILITATOR_PORT}/"
    settings.FACILITATOR_HOTKEY = FACILITATOR_HOTKEY
    settings.STORAGE_SECRET_PATH = tmp_path / "storage.key"
    settings.STORAGE_K, settings.STORAGE_N = 2, 3
    settings.STORAGE_CHUNK_BYTES = 1024
    settings.TLS_PEERS = False
    if not _implemented():
        _stand_ins(monkeypatch)
    codec.storage_secret.cache_clear()
    fake = FakeNet()
    monkeypatch.setattr(transport, "http_transport", httpx.MockTransport(fake.handle))
    yield fake
    codec.storage_secret.cache_clear()

"""Root fixtures shared by every test package: one fixture per concept (keys, seeded executor
classes, replay-check nonces, structured log capture). App packages add only their own concepts."""

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

import protocol.consumer
import protocol.limits
from config.logging import logging_dict
from protocol.identity import node_hotkey
from protocol.keys import CryptoType, Hotkey, hotkey_create, hotkey_write
from protocol.limits import PeerLimits
from protocol.nonces import RedisNonceStore


@pytest.fixture
def make_hotkey() -> Callable[..., Hotkey]:
    """Fresh keypairs on demand (sr25519 unless asked for another scheme)."""

    def _make(crypto: CryptoType = "sr25519") -> Hotkey:
        hotkey, _ = hotkey_create(crypto)
        return hotkey

    return _make


@pytest.fixture
def node_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hotkey]:
    """A fresh hotkey installed as this process's node identity."""
    hotkey, seed = hotkey_create()
    path = tmp_path / "hotkey.json"
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    monkeypatch.setattr(settings, "HOTKEY_PATH", path)
    node_hotkey.cache_clear()
    yield hotkey
    node_hotkey.cache_clear()


@pytest.fixture
def executor_classes(db: None) -> dict[str, Any]:
    """The seeded executor classes, restored if a transactional test's flush removed them."""
    # Imported here: models can only be imported once pytest-django has set Django up, which is
    # after this conftest is loaded.
    from tests.factories import executor_classes_ensure

    return executor_classes_ensure()


@pytest.fixture
def local_chain(settings: Any) -> Any:
    """The Postgres-backed local chain (1 s blocks) that tests register and stake nodes on."""
    from chain.local import LocalChain  # after Django is set up, like executor_classes

    settings.CHAIN = "local"
    settings.LOCAL_CHAIN_BLOCK_SECONDS = 1.0
    return LocalChain()


async def async_db_close() -> None:
    """Async code reaches the ORM through sync_to_async's worker thread: close that thread's
    connection so the test database can be flushed and dropped."""
    await sync_to_async(connections.close_all, thread_sensitive=True)()


@pytest.fixture
async def close_async_db() -> AsyncIterator[None]:
    """For async tests that use the database (apply with `pytest.mark.usefixtures`)."""
    yield
    await async_db_close()


@pytest.fixture
def nonce_prefix() -> str:
    """A Redis key prefix of this test's own, so replay checks never see another test's nonces."""
    return f"{settings.REDIS_PREFIX}:test-nonce:{uuid.uuid4().hex}:"


@pytest.fixture
async def nonces(nonce_prefix: str) -> AsyncIterator[RedisNonceStore]:
    store = RedisNonceStore(prefix=nonce_prefix)
    yield store
    await store.close()


@pytest.fixture
async def server_limits(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PeerLimits]:
    """`protocol.limits`' process-wide rate buckets and bans, fresh for this test's event loop and
    under a key prefix of its own, so one test's bans never refuse another test's peers."""
    limits = PeerLimits(prefix=f"{settings.PROTOCOL_LIMITS_PREFIX}{uuid.uuid4().hex}:")
    monkeypatch.setattr(protocol.limits, "_limits", (asyncio.get_running_loop(), limits))
    yield limits
    await limits.close()


@pytest.fixture
async def server_nonces(
    monkeypatch: pytest.MonkeyPatch, nonce_prefix: str, server_limits: PeerLimits
) -> AsyncIterator[RedisNonceStore]:
    """`protocol.consumer`'s process-wide nonce store, fresh for this test's event loop and key
    prefix, so a serving consumer's replay checks see only this test's handshakes (and, through
    `server_limits`, only its own rate limits and bans)."""
    store = RedisNonceStore(prefix=nonce_prefix)
    monkeypatch.setattr(protocol.consumer, "_store", store)
    yield store
    await store.close()


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every log line written while the test runs, rendered as production renders it (JSON lines
    through config.logging) and parsed back; call it to read the lines so far."""
    formatter_config = dict(logging_dict(log_format="json", level="DEBUG")["formatters"]["structlog"])
    factory = formatter_config.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**formatter_config))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def tunables_from_settings() -> None:
    """Each test starts with no runtime overrides in force (protocol/tunables.py): a save through
    constance in an earlier test was rolled back with its transaction."""
    from protocol.tunables import tunables_reset  # after Django is set up, like executor_classes

    tunables_reset()

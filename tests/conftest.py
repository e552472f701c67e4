"""Root fixtures shared by every test package."""

from pathlib import Path

import pytest
from django.conf import settings

from protocol.keys import Hotkey, hotkey_create, hotkey_write


@pytest.fixture
def make_hotkey():
    def _make(crypto: str = "sr25519") -> Hotkey:
        hotkey, _ = hotkey_create(crypto)  # type: ignore[arg-type]
        return hotkey

    return _make


@pytest.fixture
def node_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hotkey:
    """A fresh hotkey installed as this process's node identity."""
    from protocol.identity import node_hotkey

    hotkey, seed = hotkey_create()
    path = tmp_path / "hotkey.json"
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    monkeypatch.setattr(settings, "HOTKEY_PATH", path)
    node_hotkey.cache_clear()
    yield hotkey
    node_hotkey.cache_clear()


@pytest.fixture
def executor_classes(db: None) -> dict:
    """The seeded executor classes, restored if a transactional test's flush removed them."""
    from tests.factories import executor_classes_ensure

    return executor_classes_ensure()


@pytest.fixture
def nonce_prefix() -> str:
    """A Redis key prefix of this test's own, so replay checks never see another test's nonces."""
    import uuid

    return f"{settings.REDIS_PREFIX}:test-nonce:{uuid.uuid4().hex}:"


@pytest.fixture
async def nonces(nonce_prefix: str):
    from protocol.nonces import RedisNonceStore

    store = RedisNonceStore(prefix=nonce_prefix)
    yield store
    await store.close()

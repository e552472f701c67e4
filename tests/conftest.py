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

"""A local network's keys live in its directory and are reused by the next run."""

from pathlib import Path

from protocol.keys import Hotkey, hotkey_create, hotkey_load, hotkey_write


def key_load_or_create(path: Path) -> Hotkey:
    if path.exists():
        return hotkey_load(path)
    hotkey, seed = hotkey_create()
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    return hotkey

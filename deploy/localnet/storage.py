"""Storage on the local network (docs/storage.md): each miner sells LOCALNET_STORAGE_BYTES
(default 1 GiB) from a directory of its own under the network's data; the facilitator stages
uploads and downloads under it too, so `make localnet` keeps nothing outside LOCALNET_DIR."""

import os
from pathlib import Path

DEFAULT_CAPACITY_BYTES = 1 << 30


def storage_env(directory: Path, name: str) -> dict[str, str]:
    capacity = os.environ.get("LOCALNET_STORAGE_BYTES", str(DEFAULT_CAPACITY_BYTES))
    return {
        "MINER_STORAGE_DIR": str(directory / "shares" / name),
        "MINER_STORAGE_CAPACITY_BYTES": capacity,
        "STORAGE_STAGING_DIR": str(directory / "staging" / name),
    }

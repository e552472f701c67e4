"""What miners sell on the local network. Storage (docs/storage.md): each sells
LOCALNET_STORAGE_BYTES (default 1 GiB) from a directory of its own under the network's data; the
facilitator stages uploads and downloads under it too, so `make localnet` keeps nothing outside
LOCALNET_DIR. Rentals (docs/rentals.md): machines answer SSH on loopback."""

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


def rental_env() -> dict[str, str]:
    """Rented machines (docs/rentals.md) publish their SSH port on loopback here, where users are."""
    return {"MINER_RENTAL_BIND": "127.0.0.1", "MINER_RENTAL_HOST": "127.0.0.1"}

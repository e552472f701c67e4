"""Storage (docs/storage.md): objects encrypted by the validator, erasure-coded k-of-n, sealed per
miner, audited and repaired. Miners declare a directory and a capacity; the facilitator bills
GB-hours."""

from pathlib import Path

from config.env import env
from config.settings.components.meshwork import HOTKEY_PATH
from config.settings.components.node import NODE_NAME

# --- facilitator ---
# Largest object a user may upload (413 above). Objects are held in memory on the validator
# while they are encrypted and encoded, so this bounds its memory too (about 4× the size).
STORAGE_MAX_OBJECT_BYTES = env.int("STORAGE_MAX_OBJECT_BYTES", default=128 * 1024 * 1024)
# Plaintext of uploads waiting for a validator and of downloads on their way to the user;
# deleted as soon as the validator has placed it or the user has it.
STORAGE_STAGING_DIR = Path(env.str("STORAGE_STAGING_DIR", default=f"/tmp/meshwork-staging-{NODE_NAME}"))
# Credits per GB (10^9 bytes) per hour of an object stored; an upload needs credit for
# STORAGE_PREPAID_HOURS of its size (402 otherwise).
STORAGE_PRICE_PER_GB_HOUR = env.float("STORAGE_PRICE_PER_GB_HOUR", default=0.01)
STORAGE_PREPAID_HOURS = env.float("STORAGE_PREPAID_HOURS", default=1.0)
STORAGE_BILLING_INTERVAL_S = env.float("STORAGE_BILLING_INTERVAL_S", default=300.0)
# How long the facilitator waits on the validator for a placement or a retrieval (504 after).
STORAGE_REQUEST_TIMEOUT_S = env.float("STORAGE_REQUEST_TIMEOUT_S", default=120.0)

# --- validator ---
STORAGE_K = env.int("STORAGE_K", default=2)  # shares needed to read an object
STORAGE_N = env.int("STORAGE_N", default=3)  # shares placed, each on a miner of its own coldkey
STORAGE_CHUNK_BYTES = env.int("STORAGE_CHUNK_BYTES", default=16 * 1024)  # Merkle leaf = one chunk
STORAGE_AUDIT_CHUNKS = env.int("STORAGE_AUDIT_CHUNKS", default=8)  # chunks challenged per audit
# A miner answers a challenge within this (a local read is milliseconds; docs/storage.md).
STORAGE_AUDIT_DEADLINE_S = env.float("STORAGE_AUDIT_DEADLINE_S", default=2.0)
STORAGE_AUDIT_INTERVAL_S = env.float("STORAGE_AUDIT_INTERVAL_S", default=300.0)
# Failed audits in a row (or seconds unreachable) after which a share is rebuilt elsewhere.
STORAGE_REPAIR_AFTER_FAILURES = env.int("STORAGE_REPAIR_AFTER_FAILURES", default=2)
STORAGE_REPAIR_INTERVAL_S = env.float("STORAGE_REPAIR_INTERVAL_S", default=60.0)
# Each HTTP request to a miner or the facilitator (connect + every read).
STORAGE_HTTP_TIMEOUT_S = env.float("STORAGE_HTTP_TIMEOUT_S", default=30.0)
# The validator's storage secret (32 bytes hex, 0600 file): wraps object keys and derives the
# per-miner seal keys. Created on first use beside the hotkey; losing it loses every object.
_HOTKEY = Path(str(HOTKEY_PATH))
_SECRET_DEFAULT = _HOTKEY.with_name(_HOTKEY.stem + "-storage.key")
STORAGE_SECRET_PATH = Path(env.str("STORAGE_SECRET_PATH", default=str(_SECRET_DEFAULT)))
# Score per GB proven held, added to a miner's score each cycle (validator/scoring).
STORAGE_SCORE_PER_GB = env.float("STORAGE_SCORE_PER_GB", default=1.0)

# --- miner ---
# Where shares live and how much this miner sells (0: no storage). Per host in the admin; these
# seed the host named `local`.
MINER_STORAGE_DIR = Path(env.str("MINER_STORAGE_DIR", default=f"/tmp/meshwork-shares-{NODE_NAME}"))
MINER_STORAGE_CAPACITY_BYTES = env.int("MINER_STORAGE_CAPACITY_BYTES", default=0)
MINER_STORAGE_MAX_SHARE_BYTES = env.int("MINER_STORAGE_MAX_SHARE_BYTES", default=1024 * 1024 * 1024)
# The share of another validator's unused quota a validator may borrow (idle space).
MINER_STORAGE_IDLE_BORROW = env.float("MINER_STORAGE_IDLE_BORROW", default=0.5)

# --- signed HTTP (protocol/signed_http.py) ---
SIGNED_HTTP_MAX_SKEW_S = env.float("SIGNED_HTTP_MAX_SKEW_S", default=60.0)

"""Rentals (docs/rentals.md): a machine on a miner's executor, reached over SSH, billed per interval."""

from config.env import env

# --- facilitator ---
# The image every rental runs (built by `make images`: deploy/images/build-rental.sh).
RENTAL_IMAGE = env.str("RENTAL_IMAGE", default="meshwork/rental-ssh:1")
# The shortest rental (DESIGN.md: 60 s); tests of expiry shorten it.
RENTAL_MIN_SECONDS = env.int("RENTAL_MIN_SECONDS", default=60)

# --- validator ---
# How often the validator reads a rented machine's SSH banner, and after how many misses in a
# row it gives the rental up as the miner's failure (`rental_unreachable`).
RENTAL_CHECK_INTERVAL_S = env.float("RENTAL_CHECK_INTERVAL_S", default=30.0)
RENTAL_CHECK_TIMEOUT_S = env.float("RENTAL_CHECK_TIMEOUT_S", default=10.0)
RENTAL_CHECK_MISSES = env.int("RENTAL_CHECK_MISSES", default=3)

# --- miner ---
# The address a machine's SSH port is published on, and the host users are told to dial (this
# miner's public name; for a remote engine, its host from the engine URL).
MINER_RENTAL_BIND = env.str("MINER_RENTAL_BIND", default="0.0.0.0")  # noqa: S104 (users dial in from anywhere)
MINER_RENTAL_HOST = env.str("MINER_RENTAL_HOST", default="127.0.0.1")
# How long a new machine may take to answer SSH before the rental fails (the miner's fault).
MINER_RENTAL_START_S = env.float("MINER_RENTAL_START_S", default=60.0)

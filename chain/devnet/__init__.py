"""Running a real runtime locally: Chopsticks (tests, `LOCALNET_CHAIN=subtensor make localnet`) and
the dev-only RPCs that fund accounts and shape a subnet. Never used against a live chain."""

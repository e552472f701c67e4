"""The chain: which ChainClient backend, the subnet, and how the metagraph is synced."""

from config.env import BASE_DIR, env

# Chain: which ChainClient implementation, and the subnet this node lives on.
CHAIN = env.str("CHAIN", default="local")
CHAIN_NETUID = env.int("CHAIN_NETUID", default=1)
CHAIN_ENDPOINT = env.str("CHAIN_ENDPOINT", default="")
CHAIN_FIXTURES_DIR = env.path("CHAIN_FIXTURES_DIR", default=str(BASE_DIR.parent / "shared" / "chain"))
LOCAL_CHAIN_BLOCK_SECONDS = env.float("LOCAL_CHAIN_BLOCK_SECONDS", default=1.0)
# The local subnet's weight rules, fixed when its row is created (like a subtensor subnet's
# hyperparameters): tempo in blocks, commit-reveal (off: weights are set directly) with the reveal
# `LOCAL_CHAIN_REVEAL_PERIOD` epochs after the commit, and blocks between two weight settings.
LOCAL_CHAIN_TEMPO = env.int("LOCAL_CHAIN_TEMPO", default=360)
LOCAL_CHAIN_COMMIT_REVEAL = env.bool("LOCAL_CHAIN_COMMIT_REVEAL", default=False)
LOCAL_CHAIN_REVEAL_PERIOD = env.int("LOCAL_CHAIN_REVEAL_PERIOD", default=1)
LOCAL_CHAIN_WEIGHTS_RATE_LIMIT = env.int("LOCAL_CHAIN_WEIGHTS_RATE_LIMIT", default=0)
MIN_VALIDATOR_STAKE = env.int("MIN_VALIDATOR_STAKE", default=1000)

# Real chains (CHAIN=subtensor|hypertensor): the node behind CHAIN_ENDPOINT (ws://host:port).
# Writes are signed with this node's hotkey (or CHAIN_HOTKEY_PATH: Hypertensor wants an "ecdsa"
# key) and, for registration and stake, the coldkey at CHAIN_COLDKEY_PATH (same JSON format).
CHAIN_HOTKEY_PATH = env.str("CHAIN_HOTKEY_PATH", default="")
CHAIN_COLDKEY_PATH = env.str("CHAIN_COLDKEY_PATH", default="")
CHAIN_TIMEOUT_S = env.float("CHAIN_TIMEOUT_S", default=10.0)
CHAIN_RETRIES = env.int("CHAIN_RETRIES", default=3)
CHAIN_BLOCK_SECONDS = env.float("CHAIN_BLOCK_SECONDS", default=12.0)
# The metagraph is read into Postgres every interval; failures back off up to the maximum.
CHAIN_SYNC_INTERVAL_S = env.float("CHAIN_SYNC_INTERVAL_S", default=12.0)
CHAIN_SYNC_MAX_BACKOFF_S = env.float("CHAIN_SYNC_MAX_BACKOFF_S", default=300.0)
# hotkey=host:port,...: where a node really is when what it announced on chain is unusable
# (the runtime refuses loopback addresses; nodes behind NAT).
CHAIN_ADDRESS_OVERRIDES = env.dict("CHAIN_ADDRESS_OVERRIDES", default={})
CHOPSTICKS_BIN = env.str("CHOPSTICKS_BIN", default="")  # default: .tools/chopsticks (deploy/chopsticks/install.sh)

"""Meshwork's own knobs. Every value comes from the environment and fails loudly when malformed."""

from config.env import BASE_DIR, env

# Identity: the hotkey file written by `manage.py keygen`.
HOTKEY_PATH = env.path("MESHWORK_HOTKEY_PATH", default=str(BASE_DIR / ".keys" / "hotkey.json"))

# Chain: which ChainClient implementation, and the subnet this node lives on.
CHAIN = env.str("CHAIN", default="local")
CHAIN_NETUID = env.int("CHAIN_NETUID", default=1)
CHAIN_ENDPOINT = env.str("CHAIN_ENDPOINT", default="")
CHAIN_FIXTURES_DIR = env.path("CHAIN_FIXTURES_DIR", default=str(BASE_DIR.parent / "shared" / "chain"))
LOCAL_CHAIN_BLOCK_SECONDS = env.float("LOCAL_CHAIN_BLOCK_SECONDS", default=1.0)
MIN_VALIDATOR_STAKE = env.int("MIN_VALIDATOR_STAKE", default=1000)

# Handshake: how old a signed hello may be, and for how long its nonce is remembered.
HANDSHAKE_MAX_AGE_S = env.float("HANDSHAKE_MAX_AGE_S", default=30.0)
PROTOCOL_MAX_FRAME_BYTES = env.int("PROTOCOL_MAX_FRAME_BYTES", default=64 * 1024 * 1024)

# Facilitator.
FACILITATOR_MAX_INPUT_BYTES = env.int("FACILITATOR_MAX_INPUT_BYTES", default=16 * 1024 * 1024)
# The request body carries the input as base64 (4/3 of its size) plus the rest of the job.
DATA_UPLOAD_MAX_MEMORY_SIZE = FACILITATOR_MAX_INPUT_BYTES * 4 // 3 + 1024 * 1024
FACILITATOR_DEFAULT_CREDITS = env.str("FACILITATOR_DEFAULT_CREDITS", default="0")
FACILITATOR_DISPATCH_STALE_S = env.float("FACILITATOR_DISPATCH_STALE_S", default=60.0)

# Validator.
FACILITATOR_URL = env.str("FACILITATOR_URL", default="")
FACILITATOR_HOTKEY = env.str("FACILITATOR_HOTKEY", default="")
VALIDATOR_MAX_ATTEMPTS = env.int("VALIDATOR_MAX_ATTEMPTS", default=3)
VALIDATOR_QUEUE_TIMEOUT_S = env.float("VALIDATOR_QUEUE_TIMEOUT_S", default=600.0)
VALIDATOR_RESERVE_TIMEOUT_S = env.float("VALIDATOR_RESERVE_TIMEOUT_S", default=10.0)
VALIDATOR_STAGE_LEEWAY_S = env.float("VALIDATOR_STAGE_LEEWAY_S", default=30.0)

# Miner: executor hosts are Docker engines, "local" meaning the local socket (or DOCKER_HOST).
# Format: "name=docker_url;class=count,class=count|name2=...".
MINER_EXECUTOR_HOSTS = env.str("MINER_EXECUTOR_HOSTS", default="local=local;cpu.small=2")
MINER_IMAGE_ALLOWLIST = env.list("MINER_IMAGE_ALLOWLIST", default=[])

# Executor: limits on what a job may bring in and take out.
EXECUTOR_MAX_INPUT_BYTES = env.int("EXECUTOR_MAX_INPUT_BYTES", default=256 * 1024 * 1024)
EXECUTOR_MAX_LOG_BYTES = env.int("EXECUTOR_MAX_LOG_BYTES", default=1024 * 1024)
EXECUTOR_MAX_OUTPUT_BYTES = env.int("EXECUTOR_MAX_OUTPUT_BYTES", default=32 * 1024 * 1024)
EXECUTOR_WORK_DIR = env.path("EXECUTOR_WORK_DIR", default="/var/tmp/meshwork-jobs")
EXECUTOR_URL_FETCH_TIMEOUT_S = env.float("EXECUTOR_URL_FETCH_TIMEOUT_S", default=60.0)
DEFAULT_EXECUTOR_CLASS = "cpu.small"

# DHT (dht/): Kademlia over UDP. Sizes in bytes, times in seconds.
DHT_HOST = env.str("DHT_HOST", default="127.0.0.1")
DHT_PORT = env.int("DHT_PORT", default=7401)
DHT_BOOTNODE_PORT = env.int("DHT_BOOTNODE_PORT", default=7400)
DHT_BOOTNODES = env.list("DHT_BOOTNODES", default=[])  # "host:port" entries
# A chain neuron serving on host:P runs its DHT on host:P+offset (bootnodes from the chain); 0 = off.
DHT_CHAIN_PORT_OFFSET = env.int("DHT_CHAIN_PORT_OFFSET", default=0)
DHT_K = env.int("DHT_K", default=20)
DHT_ALPHA = env.int("DHT_ALPHA", default=3)
DHT_RPC_TIMEOUT_S = env.float("DHT_RPC_TIMEOUT_S", default=2.0)
DHT_SOFT_TIMEOUT_S = env.float("DHT_SOFT_TIMEOUT_S", default=0.25)
DHT_MAX_DATAGRAM_BYTES = env.int("DHT_MAX_DATAGRAM_BYTES", default=60_000)
DHT_MAX_VALUE_BYTES = env.int("DHT_MAX_VALUE_BYTES", default=24_576)
DHT_MAX_CLOCK_SKEW_S = env.float("DHT_MAX_CLOCK_SKEW_S", default=30.0)
DHT_MAX_RECORD_TTL_S = env.float("DHT_MAX_RECORD_TTL_S", default=86_400.0)
DHT_MIN_OWNER_STAKE = env.int("DHT_MIN_OWNER_STAKE", default=0)  # 0: registered on chain is enough
DHT_REQUIRE_REGISTERED_PEERS = env.bool("DHT_REQUIRE_REGISTERED_PEERS", default=True)
DHT_OWNER_WRITES_PER_S = env.float("DHT_OWNER_WRITES_PER_S", default=2.0)
DHT_OWNER_WRITE_BURST = env.int("DHT_OWNER_WRITE_BURST", default=30)
DHT_PEER_REQUESTS_PER_S = env.float("DHT_PEER_REQUESTS_PER_S", default=200.0)
DHT_PEER_REQUEST_BURST = env.int("DHT_PEER_REQUEST_BURST", default=400)
DHT_GET_QUORUM = env.int("DHT_GET_QUORUM", default=2)
DHT_REFRESH_INTERVAL_S = env.float("DHT_REFRESH_INTERVAL_S", default=600.0)
DHT_REPLICATE_INTERVAL_S = env.float("DHT_REPLICATE_INTERVAL_S", default=600.0)
DHT_SWEEP_INTERVAL_S = env.float("DHT_SWEEP_INTERVAL_S", default=30.0)
DHT_STAKE_REFRESH_S = env.float("DHT_STAKE_REFRESH_S", default=60.0)
DHT_STAKE_MISS_REFRESH_S = env.float("DHT_STAKE_MISS_REFRESH_S", default=10.0)
DHT_ALLOWED_NETWORKS = env.list("DHT_ALLOWED_NETWORKS", default=[])  # CIDRs peers may live in; empty = any
DHT_HEARTBEAT_INTERVAL_S = env.float("DHT_HEARTBEAT_INTERVAL_S", default=30.0)
DHT_HEARTBEAT_LAPSE_S = env.float("DHT_HEARTBEAT_LAPSE_S", default=95.0)
# Network-wide cap on a heartbeat's lifetime (not derived from this node's interval, so nodes with
# different intervals still accept each other's heartbeats).
DHT_HEARTBEAT_MAX_TTL_S = env.float("DHT_HEARTBEAT_MAX_TTL_S", default=600.0)
DHT_NODE_VERSION = env.str("DHT_NODE_VERSION", default="0.1.0")
DHT_MANIFEST_PROVIDER = env.str("DHT_MANIFEST_PROVIDER", default="")  # dotted path: () -> dict | str
DHT_SCORES_PROVIDER = env.str("DHT_SCORES_PROVIDER", default="")  # dotted path: (epoch) -> {hotkey: score}
DHT_EPOCH_BLOCKS = env.int("DHT_EPOCH_BLOCKS", default=360)
DHT_COMMIT_FRACTION = env.float("DHT_COMMIT_FRACTION", default=0.5)
DHT_REVEAL_FRACTION = env.float("DHT_REVEAL_FRACTION", default=0.75)

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

from config.settings.components.celery import CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE["chain-sync-metagraph"] = {
    "task": "chain.tasks.sync_metagraph",
    "schedule": CHAIN_SYNC_INTERVAL_S,
    "options": {"expires": CHAIN_SYNC_INTERVAL_S},
}
CELERY_BEAT_SCHEDULE["chain-reveal-weights"] = {
    "task": "chain.tasks.reveal_weights",
    "schedule": CHAIN_BLOCK_SECONDS,
    "options": {"expires": CHAIN_BLOCK_SECONDS},
}
# Validators route only to miners with a fresh ONLINE heartbeat (dht.selectors.dht_routable_miners);
# off by default so a network without DHT processes still routes on the chain alone.
DHT_ROUTE_REQUIRE_HEARTBEAT = env.bool("DHT_ROUTE_REQUIRE_HEARTBEAT", default=False)

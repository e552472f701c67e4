"""The DHT (dht/): Kademlia over UDP. Sizes in bytes, times in seconds."""

from config.env import env
from config.roles import NodeRole
from config.settings.components.node import MESHWORK_ROLE

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
# What the role apps publish through their DHT process, as dotted paths (dht/providers.py loads
# them, so dht/ never imports a role app). Each defaults to its role's own provider, so a node
# started by hand publishes like one started by the localnet; empty = nothing to publish.
DHT_MANIFEST_PROVIDER = env.str(  # () -> manifest dict or its digest
    "DHT_MANIFEST_PROVIDER",
    default="miner.services.manifest.manifest_for_heartbeat" if MESHWORK_ROLE is NodeRole.MINER else "",
)
DHT_SCORES_PROVIDER = env.str(  # (epoch) -> {miner hotkey: score} | None
    "DHT_SCORES_PROVIDER",
    default="validator.services.scores.cycle_scores" if MESHWORK_ROLE is NodeRole.VALIDATOR else "",
)
DHT_EPOCH_BLOCKS = env.int("DHT_EPOCH_BLOCKS", default=360)
DHT_COMMIT_FRACTION = env.float("DHT_COMMIT_FRACTION", default=0.5)
DHT_REVEAL_FRACTION = env.float("DHT_REVEAL_FRACTION", default=0.75)

# Validators route only to miners with a fresh ONLINE heartbeat (dht.selectors.dht_routable_miners).
# On by default for a validator, which runs its DHT process like every node (`manage.py dht`), so
# one started by hand routes like the localnet's; set 0 to route on the chain alone (no DHT).
DHT_ROUTE_REQUIRE_HEARTBEAT = env.bool("DHT_ROUTE_REQUIRE_HEARTBEAT", default=MESHWORK_ROLE is NodeRole.VALIDATOR)

"""The DHT's knobs in one frozen object, so a node (or a test swarm of hundreds) is configured
explicitly instead of reading settings on every datagram (dht/config.py builds it from Django's)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DhtConfig:
    k: int = 20
    alpha: int = 3
    # A reply slower than the soft timeout stops counting against α, so a dead peer delays a
    # lookup by the soft timeout, not by the hard one (the baseline's 5 s under churn).
    rpc_timeout_s: float = 2.0
    soft_timeout_s: float = 0.25
    max_datagram_bytes: int = 60_000
    max_value_bytes: int = 24_576
    max_records_per_store: int = 16
    max_subkeys_per_key: int = 4096
    max_records: int = 200_000
    max_clock_skew_s: float = 30.0
    replay_cache_size: int = 200_000
    max_record_ttl_s: float = 86_400.0
    min_owner_stake: int = 0
    require_registered_peers: bool = True
    owner_writes_per_s: float = 2.0
    owner_write_burst: int = 30
    peer_requests_per_s: float = 200.0
    peer_request_burst: int = 400
    max_inflight_requests: int = 1024
    get_quorum: int = 2
    max_pages: int = 64
    failures_before_evict: int = 2
    refresh_interval_s: float = 600.0
    replicate_interval_s: float = 600.0
    sweep_interval_s: float = 30.0
    allowed_networks: tuple[str, ...] = field(default_factory=tuple)

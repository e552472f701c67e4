"""The DHT's knobs in one frozen object, so a node (or a test swarm of hundreds) is configured
explicitly instead of reading Django settings on every datagram."""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


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

    @classmethod
    def from_settings(cls, **overrides: Any) -> "DhtConfig":
        values: dict[str, Any] = {
            "k": settings.DHT_K,
            "alpha": settings.DHT_ALPHA,
            "rpc_timeout_s": settings.DHT_RPC_TIMEOUT_S,
            "soft_timeout_s": settings.DHT_SOFT_TIMEOUT_S,
            "max_datagram_bytes": settings.DHT_MAX_DATAGRAM_BYTES,
            "max_value_bytes": settings.DHT_MAX_VALUE_BYTES,
            "max_clock_skew_s": settings.DHT_MAX_CLOCK_SKEW_S,
            "max_record_ttl_s": settings.DHT_MAX_RECORD_TTL_S,
            "min_owner_stake": settings.DHT_MIN_OWNER_STAKE,
            "require_registered_peers": settings.DHT_REQUIRE_REGISTERED_PEERS,
            "owner_writes_per_s": settings.DHT_OWNER_WRITES_PER_S,
            "owner_write_burst": settings.DHT_OWNER_WRITE_BURST,
            "peer_requests_per_s": settings.DHT_PEER_REQUESTS_PER_S,
            "peer_request_burst": settings.DHT_PEER_REQUEST_BURST,
            "get_quorum": settings.DHT_GET_QUORUM,
            "refresh_interval_s": settings.DHT_REFRESH_INTERVAL_S,
            "replicate_interval_s": settings.DHT_REPLICATE_INTERVAL_S,
            "sweep_interval_s": settings.DHT_SWEEP_INTERVAL_S,
            "allowed_networks": tuple(settings.DHT_ALLOWED_NETWORKS),
        }
        values.update(overrides)
        return cls(**values)

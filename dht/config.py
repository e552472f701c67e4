"""Django settings → the engine's DhtConfig (read once per process, never per datagram)."""

from typing import Any

from django.conf import settings

from dht.engine.config import DhtConfig


def dht_config_from_settings(**overrides: Any) -> DhtConfig:
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
    return DhtConfig(**values)

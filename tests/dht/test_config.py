"""Settings become the engine's DhtConfig once, with per-call overrides."""

from dht.config import dht_config_from_settings


def test_settings_become_a_config(settings):
    settings.DHT_K = 7
    settings.DHT_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    config = dht_config_from_settings(alpha=5)
    assert (config.k, config.alpha, config.allowed_networks) == (7, 5, ("10.0.0.0/8",))
    assert config.rpc_timeout_s == settings.DHT_RPC_TIMEOUT_S

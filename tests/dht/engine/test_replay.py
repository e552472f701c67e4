"""The replay cache remembers nonces for the window and fails closed when full."""

from dht.engine.replay import ReplayCache


def test_replay_cache_forgets_only_after_the_window_and_fails_closed_when_full():
    now = [0.0]
    cache = ReplayCache(window_s=10, max_entries=2, clock=lambda: now[0])
    assert cache.remember("a") is True
    assert cache.seen("a") is True
    assert cache.remember("b") is True
    assert cache.remember("c") is False  # full of live nonces: refuse rather than forget
    now[0] = 25.0
    assert cache.seen("a") is False
    assert cache.remember("c") is True

from dht.ratelimit import TokenBuckets
from dht.replay import ReplayCache


def test_token_buckets_refill_and_stay_bounded():
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=1.0, burst=2, max_keys=3, clock=lambda: now[0])
    assert [buckets.allow("a") for _ in range(3)] == [True, True, False]
    now[0] = 1.0
    assert buckets.allow("a") is True
    for key in "bcde":
        buckets.allow(key)
    assert len(buckets._buckets) == 3


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

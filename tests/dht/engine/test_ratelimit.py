"""Token buckets refill at their rate and keep a bounded number of keys."""

from dht.engine.ratelimit import TokenBuckets


def test_token_buckets_refill_and_stay_bounded():
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=1.0, burst=2, max_keys=3, clock=lambda: now[0])
    assert [buckets.allow("a") for _ in range(3)] == [True, True, False]
    now[0] = 1.0
    assert buckets.allow("a") is True
    for key in "bcde":
        buckets.allow(key)
    assert len(buckets._buckets) == 3

"""In-process limits (protocol/buckets.py) on a hand-driven clock: the bucket's burst, refill and
retry-after, strikes over a sliding window, and the guard a dialing client reads frames through."""

from protocol.buckets import InboundGuard, Strikes, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=2.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == 0.5  # one token at 2/s
    clock.now += 0.5
    assert bucket.take() == 0.0
    clock.now += 60
    assert [bucket.take() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]  # never more than the burst


def test_a_bucket_with_no_rate_never_refills() -> None:
    bucket = TokenBucket(rate_per_s=0.0, burst=1, clock=Clock())
    assert bucket.take() == 0.0
    assert bucket.take() == float("inf")


def test_strikes_count_only_within_the_window() -> None:
    clock = Clock()
    strikes = Strikes(limit=3, window_s=10.0, clock=clock)
    assert [strikes.add(), strikes.add()] == [False, False]
    clock.now += 10.0
    assert strikes.add() is False  # the first two fell out of the window
    clock.now += 1.0
    assert [strikes.add(), strikes.add()] == [False, True]


def test_the_guard_names_why_a_link_should_be_dropped() -> None:
    guard = InboundGuard(rate_per_s=1.0, burst=2, strikes=2, window_s=60.0)
    assert [guard.frame(), guard.frame()] == [None, None]
    assert guard.frame() == "flooding: over 1 frames/s after a burst of 2"
    assert guard.bad_frame("malformed: not JSON") is None
    assert guard.bad_frame("malformed: not JSON") == "2 bad frames within 60 s, the last: malformed: not JSON"

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.storage.erasure import NotEnoughShares, share_size, shares_decode, shares_encode


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, 65537])
@pytest.mark.parametrize(("k", "n"), [(1, 1), (1, 3), (2, 3), (3, 3), (3, 5)])
def test_any_k_of_n_shares_rebuild_the_data(size: int, k: int, n: int) -> None:
    data = os.urandom(size)
    shares = shares_encode(data, k=k, n=n)
    assert len(shares) == n
    assert {len(s) for s in shares} == {share_size(size, k=k)}
    for subset in itertools.combinations(range(n), k):
        assert shares_decode({i: shares[i] for i in subset}, k=k, n=n, size=size) == data


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 4), st.integers(0, 3))
def test_round_trip_property(data: bytes, k: int, extra: int) -> None:
    n = k + extra
    shares = shares_encode(data, k=k, n=n)
    kept = dict(list(enumerate(shares))[extra:])  # the first `extra` shares lost
    assert shares_decode(kept, k=k, n=n, size=len(data)) == data


def test_fewer_than_k_usable_shares_is_an_error() -> None:
    shares = shares_encode(b"abcdef", k=2, n=3)
    with pytest.raises(NotEnoughShares):
        shares_decode({0: shares[0]}, k=2, n=3, size=6)
    with pytest.raises(NotEnoughShares):  # a share of the wrong length does not count
        shares_decode({0: shares[0], 1: shares[1][:-1]}, k=2, n=3, size=6)
    with pytest.raises(NotEnoughShares):  # nor an index outside 0..n-1
        shares_decode({0: shares[0], 7: shares[1]}, k=2, n=3, size=6)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (3, 2), (1, 257)])
def test_impossible_parameters_are_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="k ≤ n"):
        shares_encode(b"x", k=k, n=n)

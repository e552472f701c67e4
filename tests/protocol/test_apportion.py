import pytest

from protocol.apportion import largest_remainder


def test_split_is_proportional_and_sums_to_the_total():
    assert largest_remainder(8, {"a": 3, "b": 1}) == {"a": 6, "b": 2}


def test_left_over_units_go_to_the_largest_remainders_then_by_key():
    assert largest_remainder(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder(5, {"a": 1, "b": 5}) == {"a": 1, "b": 4}  # 0.83 vs 4.17: a's remainder is larger


@pytest.mark.parametrize("weights", [{}, {"a": 0}, {"a": -3, "b": 0}])
def test_no_positive_weight_gives_nobody_anything(weights):
    assert largest_remainder(7, weights) == dict.fromkeys(weights, 0)


def test_non_positive_weights_get_nothing_beside_positive_ones():
    assert largest_remainder(3, {"a": 2, "b": 0, "c": -1}) == {"a": 3, "b": 0, "c": 0}


def test_nothing_to_split():
    assert largest_remainder(0, {"a": 1}) == {"a": 0}


def test_exact_in_integers_for_huge_weights():
    split = largest_remainder(3, {"a": 10**30, "b": 10**30 + 1, "c": 10**30})
    assert split == {"a": 1, "b": 1, "c": 1}

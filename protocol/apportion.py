"""Dividing a whole number of units (executors, bytes) among holders in proportion to their weights
(stake): the largest-remainder method, in integers so it never rounds differently on two nodes."""

from collections.abc import Mapping


def largest_remainder(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Each key's whole share of `total`; the units left over go to the largest remainders (ties
    by key). Non-positive weights get 0; all shares sum to `total` unless no weight is positive."""
    positive = {k: w for k, w in weights.items() if w > 0}
    whole = sum(positive.values())
    shares = dict.fromkeys(weights, 0)
    if whole <= 0 or total <= 0:
        return shares
    exact = {k: total * w for k, w in positive.items()}  # ×whole: integers, no float rounding
    shares.update({k: e // whole for k, e in exact.items()})
    left = total - sum(shares.values())
    for k in sorted(positive, key=lambda k: (-(exact[k] % whole), k))[:left]:
        shares[k] += 1
    return shares

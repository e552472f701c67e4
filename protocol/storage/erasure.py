"""k-of-n erasure coding of the ciphertext with zfec (Tahoe-LAFS's Reed-Solomon coder). The input
is zero-padded to k equal blocks; the validator keeps its length to strip the padding."""

import zfec

MAX_SHARES = 256  # zfec's limit


class NotEnoughShares(Exception):
    pass


def _check(k: int, n: int) -> None:
    if not 1 <= k <= n <= MAX_SHARES:
        raise ValueError(f"need 1 ≤ k ≤ n ≤ {MAX_SHARES}, got k={k}, n={n}")


def share_size(size: int, *, k: int) -> int:
    """Bytes of each share for an input of `size` bytes (at least 1: an empty input still codes)."""
    return max(1, -(-size // k))


def shares_encode(data: bytes, *, k: int, n: int) -> list[bytes]:
    """n shares of share_size(len(data), k) bytes each; any k rebuild `data`."""
    _check(k, n)
    block = share_size(len(data), k=k)
    padded = data + bytes(block * k - len(data))
    blocks = tuple(padded[i * block : (i + 1) * block] for i in range(k))
    return [bytes(b) for b in zfec.Encoder(k, n).encode(blocks)]


def shares_decode(shares: dict[int, bytes], *, k: int, n: int, size: int) -> bytes:
    """`data` of `size` bytes from any k shares {index: bytes}; NotEnoughShares with fewer."""
    _check(k, n)
    block = share_size(size, k=k)
    usable = {i: s for i, s in shares.items() if 0 <= i < n and len(s) == block}
    if len(usable) < k:
        raise NotEnoughShares(f"{len(usable)} usable shares of the {k} needed")
    nums = sorted(usable)[:k]
    blocks = zfec.Decoder(k, n).decode([usable[i] for i in nums], nums)
    return b"".join(bytes(b) for b in blocks)[:size]

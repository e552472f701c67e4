"""k-of-n erasure coding of the ciphertext with zfec (Tahoe-LAFS's coder). TO BE IMPLEMENTED."""


class NotEnoughShares(Exception):
    pass


def share_size(size: int, *, k: int) -> int:
    """Bytes of each share for an input of `size` bytes (at least 1: an empty input still codes)."""
    raise NotImplementedError


def shares_encode(data: bytes, *, k: int, n: int) -> list[bytes]:
    """n shares of share_size(len(data), k) bytes each; any k rebuild `data`."""
    raise NotImplementedError


def shares_decode(shares: dict[int, bytes], *, k: int, n: int, size: int) -> bytes:
    """`data` of `size` bytes from any k shares {index: bytes}; NotEnoughShares with fewer."""
    raise NotImplementedError

"""Storage mechanics, both sides (docs/storage.md): the object envelope (AEAD + wrapped keys),
k-of-n erasure coding (zfec), per-miner sealing, Merkle commitments over chunks and the audit
challenge. Pure: no Django models, no network."""

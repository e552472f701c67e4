"""The values Meshwork keeps in the DHT, each parsed by a strict pydantic model (unknown fields
refused, numbers finite): heartbeats and the two halves of a validator's score commit-reveal."""

import enum
import hashlib
import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from chain.interface import Role
from dht.engine.codec import canonical_or_error
from protocol.types import SS58Address, StrictModel

HEX64 = r"^[0-9a-f]{64}$"


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return value


FiniteFloat = Annotated[float, AfterValidator(_finite)]


class NodeState(enum.StrEnum):
    JOINING = "JOINING"
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class HeartbeatValue(StrictModel):
    role: Role
    state: NodeState
    version: str = Field(max_length=32)
    addresses: list[Annotated[str, Field(max_length=200)]] = Field(max_length=8)
    dht_address: str = Field(max_length=64)
    manifest_digest: str = Field(pattern=r"^([0-9a-f]{64})?$")
    rtts_ms: dict[SS58Address, Annotated[FiniteFloat, Field(ge=0, le=600_000)]] = Field(max_length=8)
    published_at: FiniteFloat


class ScoreCommitValue(StrictModel):
    epoch: int = Field(ge=0)
    digest: str = Field(pattern=HEX64)


class ScoreRevealValue(StrictModel):
    epoch: int = Field(ge=0)
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")
    scores: dict[SS58Address, Annotated[FiniteFloat, Field(ge=0)]] = Field(max_length=4096)


def manifest_digest(manifest: Any) -> str:
    """A provider may return a digest (64 hex) or the manifest itself (hashed canonically)."""
    if manifest is None or manifest == "":
        return ""
    if isinstance(manifest, str) and len(manifest) == 64:
        return manifest.lower()
    return hashlib.sha256(canonical_or_error(manifest)).hexdigest()

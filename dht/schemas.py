"""Record namespaces: what each key prefix may hold, who may write it and for how long.

A key is `<namespace>:<rest>`. Unknown namespaces are refused, so a peer cannot park arbitrary
data in our store. Each value is parsed by a strict pydantic model (unknown fields refused)."""

import enum
import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

HEX64 = r"^[0-9a-f]{64}$"


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return value


FiniteFloat = Annotated[float, AfterValidator(_finite)]
Hotkey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[1-9A-HJ-NP-Za-km-z]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeState(enum.StrEnum):
    JOINING = "JOINING"
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class HeartbeatValue(Strict):
    role: Literal["validator", "miner"]
    state: NodeState
    version: str = Field(max_length=32)
    addresses: list[Annotated[str, Field(max_length=200)]] = Field(max_length=8)
    dht_address: str = Field(max_length=64)
    manifest_digest: str = Field(pattern=r"^([0-9a-f]{64})?$")
    rtts_ms: dict[Hotkey, Annotated[FiniteFloat, Field(ge=0, le=600_000)]] = Field(max_length=8)
    published_at: FiniteFloat


class ScoreCommitValue(Strict):
    epoch: int = Field(ge=0)
    digest: str = Field(pattern=HEX64)


class ScoreRevealValue(Strict):
    epoch: int = Field(ge=0)
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")
    scores: dict[Hotkey, Annotated[FiniteFloat, Field(ge=0)]] = Field(max_length=4096)


@dataclass(frozen=True)
class Namespace:
    schema: type[BaseModel] | None  # None: any JSON value
    max_ttl_s: float
    role: str | None = None  # the owner's chain role must be this
    min_stake: int | None = None  # None: the node-wide minimum owner stake
    role_from_key: bool = False  # heartbeat:<role>: the role is the key's suffix


def default_namespaces(
    *, heartbeat_ttl_s: float, scores_ttl_s: float, min_validator_stake: int
) -> dict[str, Namespace]:
    return {
        "heartbeat": Namespace(schema=HeartbeatValue, max_ttl_s=heartbeat_ttl_s, role_from_key=True),
        "scores-commit": Namespace(
            schema=ScoreCommitValue, max_ttl_s=scores_ttl_s, role="validator", min_stake=min_validator_stake
        ),
        "scores-reveal": Namespace(
            schema=ScoreRevealValue, max_ttl_s=scores_ttl_s, role="validator", min_stake=min_validator_stake
        ),
        # Generic key-value records: any JSON value, bounded only by the size limit.
        "kv": Namespace(schema=None, max_ttl_s=86_400.0),
    }


def namespace_of(key: str) -> str:
    return key.split(":", 1)[0]

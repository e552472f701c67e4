"""Record namespaces: what each key prefix may hold, who may write it and for how long.

A key is `<namespace>:<rest>`. Unknown namespaces are refused, so a peer cannot park arbitrary
data in our store."""

from dataclasses import dataclass

from pydantic import BaseModel

from chain.interface import Role
from dht.policy.values import HeartbeatValue, ScoreCommitValue, ScoreRevealValue
from protocol.catalogue import SignedCatalogue

CATALOGUE = "catalogue"


@dataclass(frozen=True)
class Namespace:
    schema: type[BaseModel] | None  # None: any JSON value
    max_ttl_s: float
    role: Role | None = None  # the owner's chain role must be this
    min_stake: int | None = None  # None: the node-wide minimum owner stake
    role_from_key: bool = False  # heartbeat:<role>: the role is the key's suffix


def default_namespaces(
    *, heartbeat_ttl_s: float, scores_ttl_s: float, min_validator_stake: int, catalogue_ttl_s: float = 86_400.0
) -> dict[str, Namespace]:
    return {
        "heartbeat": Namespace(schema=HeartbeatValue, max_ttl_s=heartbeat_ttl_s, role_from_key=True),
        "scores-commit": Namespace(
            schema=ScoreCommitValue, max_ttl_s=scores_ttl_s, role=Role.VALIDATOR, min_stake=min_validator_stake
        ),
        "scores-reveal": Namespace(
            schema=ScoreRevealValue, max_ttl_s=scores_ttl_s, role=Role.VALIDATOR, min_stake=min_validator_stake
        ),
        # The subnet owner's signed catalogue: any registered owner key (no stake floor; the
        # catalogue check in dht/policy/catalogue.py admits only SUBNET_OWNER_HOTKEY).
        CATALOGUE: Namespace(schema=SignedCatalogue, max_ttl_s=catalogue_ttl_s, min_stake=0),
        # Generic key-value records: any JSON value, bounded only by the size limit.
        "kv": Namespace(schema=None, max_ttl_s=86_400.0),
    }


def namespace_of(key: str) -> str:
    return key.split(":", 1)[0]


def heartbeat_key(role: Role) -> str:
    return f"heartbeat:{role}"


def commit_key(epoch: int) -> str:
    return f"scores-commit:{epoch}"


def reveal_key(epoch: int) -> str:
    return f"scores-reveal:{epoch}"


def catalogue_key(netuid: int) -> str:
    return f"{CATALOGUE}:{netuid}"

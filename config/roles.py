"""The composition root: which apps a node of each role runs. Every node installs every app (one
database schema everywhere, migrations unchanged); a role decides what it *mounts*: URL patterns
(`config.urls`), websocket routes (`config.websocket_routes`) and admin models (below).

Imported by settings, so it names apps and never imports them."""

import enum

from django.core.exceptions import ImproperlyConfigured


class NodeRole(enum.StrEnum):
    FACILITATOR = "facilitator"
    VALIDATOR = "validator"
    MINER = "miner"
    ALL = "all"  # tests and development: every role in one process


# Every node keeps users and API tokens, syncs the chain and takes part in the DHT.
# Users and tokens are registered with the admin theme's classes (config/admin_auth.py); the
# runtime-tunable parameters (django-constance) are every node's too.
SHARED_ADMIN_MODULES = ("config.admin_auth", "constance.admin", "chain.admin", "dht.admin")
ROLE_ADMIN_MODULES: dict[NodeRole, tuple[str, ...]] = {
    # The facilitator prices jobs by executor class; the miner sizes its executors by it.
    NodeRole.FACILITATOR: ("facilitator.admin", "executor.admin"),
    # A validator scores by class; the subnet owner's node (often a validator) edits the catalogue.
    NodeRole.VALIDATOR: ("validator.admin", "executor.admin"),
    NodeRole.MINER: ("miner.admin", "executor.admin"),
}


def role_parse(value: str) -> NodeRole:
    try:
        return NodeRole(value)
    except ValueError:
        allowed = ", ".join(role.value for role in NodeRole)
        raise ImproperlyConfigured(f"MESHWORK_ROLE={value!r} is not a role; set it to one of: {allowed}") from None


def role_serves(role: NodeRole, *served: NodeRole) -> bool:
    """Whether a node of `role` mounts what belongs to any of `served` (`all` mounts everything)."""
    return role is NodeRole.ALL or role in served


def role_admin_modules(role: NodeRole) -> list[str]:
    """The admin modules a node of `role` registers, each once."""
    modules = list(SHARED_ADMIN_MODULES)
    for other, own in ROLE_ADMIN_MODULES.items():
        if role_serves(role, other):
            modules += [m for m in own if m not in modules]
    return modules

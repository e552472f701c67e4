"""The node's version, its one source of truth (pyproject.toml), and the subnet's minimum.

Every node announces `NODE_VERSION` in its handshake (`Handshake.node_version`) and its DHT
heartbeat. A peer below the minimum is refused with `ErrorCode.VERSION_TOO_OLD` (docs/versions.md).
The minimum is the higher of `MESHWORK_MIN_VERSION` and what the chain says, which the provider
named by `MESHWORK_MIN_VERSION_PROVIDER` reads (config wires it to `chain.selectors`; this module
is infrastructure and never imports it)."""

import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string
from packaging.version import InvalidVersion, Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# A chain stores a version as one integer (subtensor's WeightsVersionKey): major, minor and patch
# in two decimal digits each above a base, so 1.2.3 is 10203.
_MINOR_BASE = 100
_MAJOR_BASE = 100 * _MINOR_BASE


def _project_version() -> str:
    with PYPROJECT.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


NODE_VERSION = _project_version()


def version_parse(text: str) -> Version:
    """Raises ValueError with the text for anything PEP 440 does not read as a version."""
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise ValueError(f"{text!r} is not a version (PEP 440, e.g. 0.2.0)") from exc


def version_from_int(value: int) -> str:
    """The version a chain's integer stands for (10203 → "1.2.3")."""
    major, rest = divmod(value, _MAJOR_BASE)
    minor, patch = divmod(rest, _MINOR_BASE)
    return f"{major}.{minor}.{patch}"


def version_as_int(text: str) -> int:
    """The integer a subnet owner sets on chain for `text` (the inverse of version_from_int)."""
    release = (*version_parse(text).release, 0, 0)[:3]
    if any(part >= _MINOR_BASE for part in release[1:]):
        raise ValueError(f"{text!r}: minor and patch must be below {_MINOR_BASE} to fit the chain's integer")
    return release[0] * _MAJOR_BASE + release[1] * _MINOR_BASE + release[2]


@cache
def _provider(dotted_path: str) -> Callable[[], str | None]:
    provider: Callable[[], str | None] = import_string(dotted_path)
    return provider


def min_peer_version() -> str | None:
    """The lowest version a peer may run, None when nothing is required. Reads the database (the
    chain provider): call it through `db_sync_to_async` from async code."""
    candidates = [settings.MESHWORK_MIN_VERSION or None]
    if settings.MESHWORK_MIN_VERSION_PROVIDER:
        candidates.append(_provider(settings.MESHWORK_MIN_VERSION_PROVIDER)())
    floors = [version_parse(text) for text in candidates if text]
    return str(max(floors)) if floors else None


def version_refusal(*, peer_version: str | None, minimum: str | None) -> str | None:
    """None if a peer announcing `peer_version` may talk to us, else why not (one line). A peer
    that announced nothing predates the announcement, so it is below any minimum."""
    if minimum is None:
        return None
    if peer_version is None:
        return f"peer announced no version; this subnet requires >= {minimum}"
    try:
        too_old = version_parse(peer_version) < version_parse(minimum)
    except ValueError as exc:
        return f"peer version unreadable: {exc}"
    if too_old:
        return f"peer runs {peer_version}; this subnet requires >= {minimum}"
    return None

"""Runtime-tunable parameters: the value an operator saved in the admin (django-constance, database
backend), else the setting (environment or default). A saved change takes effect without a restart:
at once in the process that saved it (constance's `config_updated` signal), within
TUNABLES_REFRESH_S in the node's other processes (docs/admin.md).

Only values stored in the database override: a parameter never edited follows its setting, so a
changed environment (or a test's settings override) still counts.

Safe to call from an event loop (the validator's job sessions): the database is read from a worker
thread there, which closes its connection afterwards, so no loop ever runs the ORM."""

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from constance.codecs import loads
from constance.signals import config_updated
from django.apps import apps
from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

# Parameters stored as text in constance whose setting is a list (comma-separated in the admin).
LIST_TUNABLES = frozenset({"MINER_IMAGE_ALLOWLIST"})


class UnknownTunable(KeyError):
    pass


class _Snapshot:
    """The stored overrides, reloaded when older than TUNABLES_REFRESH_S."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.loaded_at = float("-inf")
        self.lock = threading.Lock()


_snapshot = _Snapshot()
_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunables")


def tunable(name: str) -> Any:
    """The value of tunable `name` in force now."""
    if name not in settings.CONSTANCE_CONFIG:
        raise UnknownTunable(f"{name} is not a runtime-tunable parameter (CONSTANCE_CONFIG)")
    overrides = _overrides()
    if name in overrides:
        return _decode(name, overrides[name])
    return getattr(settings, name)


def tunables_forget(**_: Any) -> None:
    """Drop the snapshot, so the next read goes to the database."""
    with _snapshot.lock:
        _snapshot.loaded_at = float("-inf")


def tunables_reset() -> None:
    """Start from no overrides, as if just read (tests: each starts from the settings)."""
    with _snapshot.lock:
        _snapshot.values, _snapshot.loaded_at = {}, time.monotonic()


config_updated.connect(tunables_forget, dispatch_uid="meshwork-tunables")


def _overrides() -> dict[str, Any]:
    refresh = float(settings.TUNABLES_REFRESH_S)
    with _snapshot.lock:
        if time.monotonic() - _snapshot.loaded_at < refresh:
            return _snapshot.values
        values = _load_off_loop() if _in_event_loop() else _load()
        if values is not None:
            _snapshot.values, _snapshot.loaded_at = values, time.monotonic()
        return _snapshot.values


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _load() -> dict[str, Any] | None:
    """The stored overrides, or None if the table cannot be read (the last snapshot, or the
    settings, stay in force: a database outage must not change a node's parameters)."""
    # Read here, not through constance's backend: its `mget` answers {} when the database is down.
    model = apps.get_model("constance", "Constance")
    prefix = getattr(settings, "CONSTANCE_DATABASE_PREFIX", "")
    keys = {f"{prefix}{name}": name for name in settings.CONSTANCE_CONFIG}
    try:
        return {keys[row.key]: loads(row.value) for row in model.objects.filter(key__in=keys)}
    except Exception as exc:  # any failure to read means: keep what is in force
        log.warning("tunables unreadable, keeping the values in force: %s", exc)
        return None


def _load_off_loop() -> dict[str, Any] | None:
    def load_and_close() -> dict[str, Any] | None:
        try:
            return _load()
        finally:
            connections.close_all()

    return _loader.submit(load_and_close).result()


def _decode(name: str, value: Any) -> Any:
    if name in LIST_TUNABLES:
        return [entry.strip() for entry in str(value).split(",") if entry.strip()]
    return value

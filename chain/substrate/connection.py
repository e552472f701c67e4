"""One lazily opened substrate-interface connection with timeouts, retries and typed errors.

Every chain call runs in a Celery worker or a management command, never on a request or event
loop: reads are retried with backoff, writes are tried once (a resubmitted extrinsic could apply
twice if the first one did land)."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from substrateinterface import SubstrateInterface

from chain.interface import ChainError, ChainUnavailable
from chain.substrate.backoff import backoff_delay
from chain.substrate.errors import translate

logger = logging.getLogger(__name__)
T = TypeVar("T")


class SubstrateConnection:
    def __init__(
        self,
        *,
        url: str,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        ss58_format: int = 42,
        websocket: Any = None,
    ) -> None:
        if not url and websocket is None:
            raise ChainError("CHAIN_ENDPOINT is not set (ws://host:port of a subtensor or Hypertensor node)")
        self.url = url or "in-process"
        self._timeout_s = timeout_s
        self._retries = max(1, retries)
        self._backoff_s = backoff_s
        self._ss58_format = ss58_format
        self._websocket = websocket
        self._interface: SubstrateInterface | None = None
        self._lock = threading.RLock()  # one request at a time on the socket

    def interface(self) -> SubstrateInterface:
        if self._interface is None:
            try:
                if self._websocket is not None:
                    si = SubstrateInterface(
                        websocket=self._websocket, ss58_format=self._ss58_format, auto_discover=False
                    )
                else:
                    si = SubstrateInterface(
                        url=self.url,
                        ss58_format=self._ss58_format,
                        auto_discover=False,
                        auto_reconnect=False,
                        ws_options={"timeout": self._timeout_s},
                    )
                si.init_runtime()
            except Exception as exc:
                raise translate(exc, endpoint=self.url) from exc
            self._interface = si
        return self._interface

    def read(self, fn: Callable[[SubstrateInterface], T]) -> T:
        """Run an idempotent read, reconnecting and retrying with backoff while the node is unreachable."""
        for attempt in range(1, self._retries + 1):
            try:
                return self._once(fn)
            except ChainUnavailable as exc:
                if attempt == self._retries:
                    raise
                delay = backoff_delay(attempt, base_s=self._backoff_s, cap_s=30.0)
                logger.warning("chain: %s; retry %d/%d in %.1fs", exc, attempt, self._retries - 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def write(self, fn: Callable[[SubstrateInterface], T]) -> T:
        return self._once(fn)

    def _once(self, fn: Callable[[SubstrateInterface], T]) -> T:
        with self._lock:
            si = self.interface()
            try:
                return fn(si)
            except Exception as exc:
                error = translate(exc, endpoint=self.url)
                if isinstance(error, ChainUnavailable):
                    self.close()  # a timed-out socket may still deliver a stale answer: start afresh
                raise error from exc

    def close(self) -> None:
        if self._interface is not None:
            try:
                self._interface.close()
            except Exception:  # noqa: S110 - closing a broken socket may fail; nothing to do about it
                pass
            self._interface = None


def chain_head(si: SubstrateInterface) -> tuple[str, int]:
    """The best block's hash and number, read once so every query of a round sees one state."""
    block_hash = si.get_chain_head()
    return block_hash, int(si.get_block_number(block_hash))

"""One miner's `GET /api/v1/receipts/`, page after page, bounded so a hostile endpoint costs little.

Bounds (settings): each request VALIDATOR_RECEIPT_PULL_TIMEOUT_S (a slow or trickling body too),
the time spent waiting on the miner over the whole pull VALIDATOR_RECEIPT_PULL_DEADLINE_S (our own
verification time is not the miner's and is not counted), each body VALIDATOR_RECEIPT_PULL_MAX_BYTES
(streamed and cut: a huge body is never held), VALIDATOR_RECEIPT_PULL_MAX_PAGES pages, and a `next`
that repeats a cursor of this pull ends it. A failure is a `PullFailure` with a machine-readable
reason and a detail written here, never text from the miner's body."""

import asyncio
import enum
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import httpx
from django.conf import settings

RECEIPTS_PATH = "/api/v1/receipts/"
PAGE_MAX_RESULTS = 1000  # protocol.receipts.ReceiptPage's bounds
CURSOR_MAX_LENGTH = 200


class PullFailureReason(enum.StrEnum):
    BAD_ADDRESS = "bad_address"  # the miner's address is not an HTTP base URL or host:port
    UNREACHABLE = "unreachable"  # no connection, or it broke
    TIMEOUT = "timeout"  # one request took longer than VALIDATOR_RECEIPT_PULL_TIMEOUT_S
    DEADLINE = "deadline"  # the whole pull's VALIDATOR_RECEIPT_PULL_DEADLINE_S ran out
    TOO_LARGE = "too_large"  # a body over VALIDATOR_RECEIPT_PULL_MAX_BYTES
    HTTP_STATUS = "http_status"  # anything but 200
    MALFORMED = "malformed"  # not HTTP, not JSON, not a receipt page, a compressed body
    ENDLESS = "endless"  # a `next` cursor already seen in this pull
    MAX_PAGES = "max_pages"  # still more after VALIDATOR_RECEIPT_PULL_MAX_PAGES pages
    ERROR = "error"  # our own fault (logged), recorded so the miner's row still says what happened


class PullFailure(Exception):
    def __init__(self, reason: PullFailureReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:500]


@dataclass(frozen=True)
class PullBounds:
    timeout_s: float
    deadline_s: float
    max_bytes: int
    max_pages: int

    @classmethod
    def from_settings(cls) -> "PullBounds":
        return cls(
            timeout_s=settings.VALIDATOR_RECEIPT_PULL_TIMEOUT_S,
            deadline_s=settings.VALIDATOR_RECEIPT_PULL_DEADLINE_S,
            max_bytes=settings.VALIDATOR_RECEIPT_PULL_MAX_BYTES,
            max_pages=settings.VALIDATOR_RECEIPT_PULL_MAX_PAGES,
        )


@dataclass
class Page:
    cursor: str  # what it was requested with ("" = from `since`)
    items: list[object]  # the receipts as sent: each is checked on its own (validator/receipts/verify.py)
    next: str | None


def receipts_url(address: str) -> str:
    if "://" not in address:  # the chain's and the DHT's form: host:port, TLS when the network uses it
        address = f"{'https' if settings.TLS_PEERS else 'http'}://{address}"
    if not address.startswith(("http://", "https://")) or len(address) > 300:
        raise PullFailure(PullFailureReason.BAD_ADDRESS, "the address is not an http(s) base URL")
    return address.rstrip("/") + RECEIPTS_PATH


def page_parse(body: bytes, *, cursor: str) -> Page:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise PullFailure(PullFailureReason.MALFORMED, "the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise PullFailure(PullFailureReason.MALFORMED, "the body is not a receipt page")
    results: list[object] = data["results"]
    if len(results) > PAGE_MAX_RESULTS:
        raise PullFailure(PullFailureReason.MALFORMED, f"a page of {len(results)} receipts (> {PAGE_MAX_RESULTS})")
    nxt = data.get("next")
    if nxt is not None and not (isinstance(nxt, str) and len(nxt) <= CURSOR_MAX_LENGTH):
        raise PullFailure(PullFailureReason.MALFORMED, "`next` is not a cursor")
    return Page(cursor=cursor, items=results, next=nxt or None)


async def _body(client: httpx.AsyncClient, url: str, params: dict[str, str], max_bytes: int) -> bytes:
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    try:
        async with client.stream("GET", url, params=params, headers=headers) as response:
            if response.status_code != httpx.codes.OK:
                raise PullFailure(PullFailureReason.HTTP_STATUS, f"HTTP {response.status_code}")
            # A compressed body could expand far past the limit inside one chunk: refused unread.
            if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
                raise PullFailure(PullFailureReason.MALFORMED, "a compressed body (we asked for identity)")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise PullFailure(PullFailureReason.TOO_LARGE, f"Content-Length {declared} > {max_bytes} bytes")
            chunks, size = [], 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise PullFailure(PullFailureReason.TOO_LARGE, f"the body passed {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise PullFailure(PullFailureReason.TIMEOUT, "no answer within the request timeout") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise PullFailure(PullFailureReason.BAD_ADDRESS, "the address is not an http(s) base URL") from None
    except httpx.ProtocolError as exc:
        raise PullFailure(PullFailureReason.MALFORMED, f"broken HTTP ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise PullFailure(PullFailureReason.UNREACHABLE, f"{type(exc).__name__}") from None


async def receipt_pages(
    client: httpx.AsyncClient, *, address: str, cursor: str, since: datetime, bounds: PullBounds
) -> AsyncIterator[Page]:
    """The miner's pages from `cursor` (or from `since` without one), oldest first. Raises
    PullFailure when a bound is hit; the pages yielded before it stay the caller's."""
    url = receipts_url(address)
    seen = {cursor}
    budget = bounds.deadline_s
    for _ in range(bounds.max_pages):
        if budget <= 0:
            raise PullFailure(PullFailureReason.DEADLINE, f"the pull's {bounds.deadline_s:g} s ran out")
        limit = min(bounds.timeout_s, budget)
        params = {"cursor": cursor} if cursor else {"since": since.isoformat()}
        started = time.monotonic()
        try:
            async with asyncio.timeout(limit):  # httpx's timeouts are per read: a trickle never trips them
                body = await _body(client, url, params, bounds.max_bytes)
        except TimeoutError:
            if limit < bounds.timeout_s:
                raise PullFailure(PullFailureReason.DEADLINE, f"the pull's {bounds.deadline_s:g} s ran out") from None
            raise PullFailure(PullFailureReason.TIMEOUT, f"no whole answer within {limit:g} s") from None
        finally:
            budget -= time.monotonic() - started
        page = page_parse(body, cursor=cursor)
        yield page
        if page.next is None:
            return
        if page.next in seen:
            raise PullFailure(PullFailureReason.ENDLESS, "`next` repeats a cursor of this pull")
        seen.add(page.next)
        cursor = page.next
    raise PullFailure(PullFailureReason.MAX_PAGES, f"more pages after {bounds.max_pages}")

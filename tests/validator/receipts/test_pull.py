"""The whole pull: honest and hostile miners served on loopback, real signatures, real Postgres.
Each hostile miner's pull is recorded with its reason, honest receipts are stored, and nothing one
miner sends touches another miner's score inputs (its ReceiptRecord rows)."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections

from chain.interface import Role
from protocol.keys import Hotkey
from protocol.receipts import IntervalPayload, ReceiptRefusal
from tests.validator.factories import MinerFactory
from tests.validator.receipts.miner_server import (
    MinerServer,
    Reply,
    job_payloads,
    job_receipts,
    key,
    paged,
    signed,
)
from validator.models import Miner, ReceiptCursor, ReceiptPull, ReceiptRecord
from validator.receipts.fetch import PullFailureReason
from validator.receipts.pull import PULL_LOCK, receipts_pull_all_sync
from validator.tasks import pull_receipts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pull_settings")]


def _serve(server: MinerServer, name: str, receipts: list[dict[str, Any]], *, size: int = 4) -> tuple[Hotkey, str]:
    return key(name), server.add(name, paged(receipts, size=size))


def _miner(hotkey: Hotkey, address: str) -> Miner:
    return MinerFactory.create(hotkey=hotkey.ss58, address=address)


def _rows(miner: Miner) -> list[tuple[Any, ...]]:
    rows = ReceiptRecord.objects.filter(miner=miner).order_by("kind", "job_uuid", "index")
    return list(rows.values_list("kind", "job_uuid", "index", "digest", "seconds", "validator_hotkey", "source"))


def _pull(miner: Miner) -> ReceiptPull:
    return ReceiptPull.objects.filter(miner=miner).latest("started_at")


def _tamper(receipt: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**receipt, **changes}


def _run_pull() -> Any:
    summary = receipts_pull_all_sync()
    assert summary is not None
    return summary


def test_an_honest_miners_receipts_are_stored_once_and_the_cursor_resumes(
    miner_server: MinerServer, validator_key: Hotkey
) -> None:
    miner_key = key("honest")
    receipts = [r for _ in range(3) for r in job_receipts(validator=validator_key, miner=miner_key)]  # 12
    miner = _miner(miner_key, miner_server.add("honest", paged(receipts, size=5)))

    summary = _run_pull()
    assert (summary.miners, summary.failed, summary.accepted) == (1, 0, 12)
    pull = _pull(miner)
    assert (pull.pages, pull.accepted, pull.duplicates, pull.refused, pull.failure) == (3, 12, 0, {}, "")
    assert len(_rows(miner)) == 12
    assert {r[6] for r in _rows(miner)} == {ReceiptRecord.Source.PULLED}
    cursor = ReceiptCursor.objects.get(miner=miner)
    assert (cursor.cursor, cursor.failures, cursor.last_reason) == ("10", 0, "")

    receipts.extend(job_receipts(validator=validator_key, miner=miner_key))  # 4 more arrive
    summary = _run_pull()
    pull = _pull(miner)
    # Resumed at the last page's cursor: that page again (2 duplicates), then the new ones.
    assert miner_server.requests["honest"][3] == {"cursor": "10"}
    assert (pull.accepted, pull.duplicates, pull.failure) == (4, 2, "")
    assert ReceiptRecord.objects.filter(miner=miner).count() == 16
    assert ReceiptPull.objects.filter(miner=miner).count() == 2  # one row per pull, whatever it read


def test_hostile_miners_are_recorded_with_their_reasons_and_touch_nobody_else(
    miner_server: MinerServer, validator_key: Hotkey, local_chain: Any
) -> None:
    """One pull over an honest miner and a zoo of hostile ones."""
    honest_key = key("honest")
    honest_receipts = job_receipts(validator=validator_key, miner=honest_key)
    honest = _miner(honest_key, miner_server.add("honest", paged(honest_receipts, size=4)))
    _run_pull()
    before = _rows(honest)
    assert len(before) == 4

    lowstake, stranger = key("low-stake-validator"), key("not-registered")
    local_chain.register(hotkey=lowstake.ss58, coldkey=key("low-cold").ss58, role=Role.VALIDATOR)
    local_chain.add_stake(hotkey=lowstake.ss58, amount=10)
    minerlike = key("registered-as-miner")
    local_chain.register(hotkey=minerlike.ss58, coldkey=key("ml-cold").ss58, role=Role.MINER)
    local_chain.add_stake(hotkey=minerlike.ss58, amount=10_000)

    def own(name: str, **kwargs: Any) -> list[dict[str, Any]]:
        return job_receipts(validator=kwargs.pop("validator", validator_key), miner=key(name), **kwargs)

    def forged(name: str, field: str) -> list[dict[str, Any]]:
        impostor = key(f"impostor-{name}")
        out = []
        for p in job_payloads(validator=validator_key, miner=key(name)):
            good = signed(p, validator=validator_key, miner=key(name))
            out.append(_tamper(good, **{field: signed(p, validator=impostor, miner=impostor)[field]}))
        return out

    def implausible(name: str) -> list[dict[str, Any]]:
        started, accepted, _, finished = job_payloads(validator=validator_key, miner=key(name), timeout_s=60)
        too_long = IntervalPayload(**{**_fields(started), "at": finished.at, "index": 1, "seconds": 3600.0})
        backwards = finished.model_copy(update={"started_at": finished.at + timedelta(seconds=5), "seconds": 1.0})
        return [signed(p, validator=validator_key, miner=key(name)) for p in (started, accepted, too_long, backwards)]

    zoo: dict[str, tuple[list[Any], dict[str, int]]] = {
        # name: (what it serves, what must be refused)
        "forged-validator-sig": (forged("forged-validator-sig", "validator_signature"), {"bad_validator_signature": 4}),
        "forged-miner-sig": (forged("forged-miner-sig", "miner_signature"), {"bad_miner_signature": 4}),
        "serves-another-miners": (honest_receipts, {"other_miner": 4}),  # the honest miner's, replayed
        "foreign-netuid": (own("foreign-netuid", netuid=7), {"foreign_subnet": 4}),
        "unknown-validator": (own("unknown-validator", validator=stranger), {"unknown_validator": 4}),
        "low-stake-validator": (own("low-stake-validator", validator=lowstake), {"unknown_validator": 4}),
        "miner-as-validator": (own("miner-as-validator", validator=minerlike), {"unknown_validator": 4}),
        "from-the-future": (own("from-the-future", at=datetime.now(UTC) + timedelta(hours=1)), {"from_future": 4}),
        "implausible": (implausible("implausible"), {"implausible": 2}),
        "malformed-items": ([{"kind": "nonsense"}, 17, *own("malformed-items")], {"malformed": 2}),
    }
    miners = {
        name: _miner(key(name), miner_server.add(name, paged(served, size=4))) for name, (served, _) in zoo.items()
    }

    async def json_garbage(query: dict[str, str]) -> Reply:
        return Reply(body=b"{not json")

    async def slow(query: dict[str, str]) -> Reply:
        return Reply(body=b"{}", delay_s=30)

    async def huge(query: dict[str, str]) -> Reply:
        return Reply(body=json.dumps({"results": [honest_receipts[0]] * 1000}).encode())

    async def endless(query: dict[str, str]) -> Reply:
        return Reply(body=json.dumps({"results": [], "next": str(uuid.uuid4())}).encode())

    failing = {"garbage": json_garbage, "slow": slow, "huge": huge, "endless": endless}
    broken = {name: _miner(key(name), miner_server.add(name, handler)) for name, handler in failing.items()}

    summary = _run_pull()

    assert summary.miners == 1 + len(zoo) + len(failing)
    for name, (_, refused) in zoo.items():
        pull = _pull(miners[name])
        assert (pull.refused, pull.failure) == (refused, ""), name
    assert _pull(miners["implausible"]).accepted == 2  # its started and accepted receipts hold
    assert _pull(miners["malformed-items"]).accepted == 4
    for name, reason in {
        "garbage": PullFailureReason.MALFORMED,
        "slow": PullFailureReason.TIMEOUT,
        "huge": PullFailureReason.TOO_LARGE,
        "endless": PullFailureReason.MAX_PAGES,
    }.items():
        pull = _pull(broken[name])
        assert (pull.failure, pull.accepted) == (reason, 0), name
        cursor = ReceiptCursor.objects.get(miner=broken[name])
        assert (cursor.failures, cursor.last_reason) == (1, reason), name
    # The honest miner: pulled again (its page re-read as duplicates), its rows exactly as before.
    assert _pull(honest).failure == ""
    assert _rows(honest) == before
    assert not ReceiptRecord.objects.filter(miner__in=broken.values()).exists()
    refused_miners = [m for name, m in miners.items() if name not in ("implausible", "malformed-items")]
    assert not ReceiptRecord.objects.filter(miner__in=refused_miners).exists()


def _fields(payload: Any) -> dict[str, Any]:
    data = payload.model_dump()
    return {k: data[k] for k in ("netuid", "job_uuid", "validator_hotkey", "miner_hotkey", "executor_class")}


def test_a_receipt_signed_again_with_other_content_is_a_replay(
    miner_server: MinerServer, validator_key: Hotkey
) -> None:
    miner_key = key("replayer")
    payloads = job_payloads(validator=validator_key, miner=miner_key, seconds=30.0)
    first = [signed(p, validator=validator_key, miner=miner_key) for p in payloads]
    inflated = payloads[2].model_copy(update={"seconds": 300.0})  # the same interval, claimed bigger
    served = [*first, signed(inflated, validator=validator_key, miner=miner_key)]
    miner = _miner(miner_key, miner_server.add("replayer", paged(served, size=4)))
    _run_pull()
    pull = _pull(miner)
    assert (pull.accepted, pull.refused) == (4, {ReceiptRefusal.REPLAYED: 1})
    assert ReceiptRecord.objects.get(miner=miner, kind="interval").seconds == 30.0


def test_a_failure_keeps_the_pages_before_it_and_failures_count_until_a_success(
    miner_server: MinerServer, validator_key: Hotkey
) -> None:
    miner_key = key("flaky")
    receipts = [r for _ in range(2) for r in job_receipts(validator=validator_key, miner=miner_key)]  # 8
    honest = paged(receipts, size=4)
    broken_after = {"cursor": "4"}

    async def flaky(query: dict[str, str]) -> Reply:
        if query.get("cursor") == broken_after["cursor"]:
            return Reply(status=503)
        return await honest(query)

    miner = _miner(miner_key, miner_server.add("flaky", flaky))
    for failures in (1, 2):
        _run_pull()
        pull = _pull(miner)
        cursor = ReceiptCursor.objects.get(miner=miner)
        assert (pull.failure, pull.detail, cursor.failures, cursor.cursor) == ("http_status", "HTTP 503", failures, "4")
    assert ReceiptRecord.objects.filter(miner=miner).count() == 4  # the first page's, kept

    broken_after["cursor"] = "never"
    _run_pull()
    cursor = ReceiptCursor.objects.get(miner=miner)
    assert (cursor.failures, cursor.last_reason, cursor.cursor) == (0, "", "4")
    assert ReceiptRecord.objects.filter(miner=miner).count() == 8


def test_inactive_miners_and_miners_without_an_address_are_not_pulled(
    miner_server: MinerServer, validator_key: Hotkey
) -> None:
    MinerFactory.create(hotkey=key("gone").ss58, address=miner_server.add("gone", paged([], size=4)), is_active=False)
    MinerFactory.create(hotkey=key("nowhere").ss58, address="")
    assert _run_pull().miners == 0
    assert not ReceiptPull.objects.exists()
    assert miner_server.requests["gone"] == []


def test_one_pull_at_a_time_and_the_task_runs_it(miner_server: MinerServer, validator_key: Hotkey) -> None:
    miner_key = key("honest")
    miner = _miner(
        miner_key, miner_server.add("honest", paged(job_receipts(validator=validator_key, miner=miner_key), size=4))
    )
    with connection.cursor() as cursor:  # the test's connection plays another worker's pull
        cursor.execute("SELECT pg_advisory_lock(%s)", [PULL_LOCK])
    try:
        other = _other_connection_pull()
        assert other is None  # claimed elsewhere: skipped, nothing pulled
        assert not ReceiptPull.objects.exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PULL_LOCK])
    assert pull_receipts() == {
        "miners": 1,
        "failed": 0,
        "pages": 1,
        "accepted": 4,
        "duplicates": 0,
        "refused": {},
        "failures": {},
    }
    assert receipts_pull_all_sync(wait=True) is not None
    assert ReceiptPull.objects.filter(miner=miner).count() == 2


def _other_connection_pull() -> Any:
    """`receipts_pull_all_sync` from another thread: its own database connection, like another worker."""

    def run() -> Any:
        try:
            return receipts_pull_all_sync()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()

"""Record intake with a stand-in validator: settled copies skip validation, a rejection names its
reason, a full store refuses, and only valid state-changing writes spend the owner's budget."""

import time

import pytest

from dht.engine.droplog import DropLog
from dht.engine.intake import RecordIntake
from dht.engine.interfaces import Rejected
from dht.engine.ratelimit import TokenBuckets
from dht.engine.record_store import RecordStore
from dht.engine.records import Record, record_sign


class Judge:
    def __init__(self) -> None:
        self.seen: list[Record] = []
        self.refuse: str | None = None

    async def validate(self, record: Record, now: float) -> None:
        self.seen.append(record)
        if self.refuse:
            raise Rejected(self.refuse)


@pytest.fixture
def intake_parts():
    judge = Judge()
    store = RecordStore(max_records=2, max_subkeys_per_key=10)
    drops = DropLog(node="5Test")
    intake = RecordIntake(
        store=store,
        validator=judge,
        owner_rate=TokenBuckets(rate_per_s=0.0001, burst=2),
        drops=drops,
        clock=time.time,
    )
    return intake, judge, store, drops


async def test_duplicates_and_stale_copies_cost_no_validation(intake_parts, make_hotkey):
    intake, judge, _store, _drops = intake_parts
    hotkey = make_hotkey("ed25519")
    newer = record_sign(hotkey=hotkey, key="kv:a", value=2, expires=time.time() + 120)
    older = record_sign(hotkey=hotkey, key="kv:a", value=1, expires=time.time() + 60)
    assert await intake.accept(newer, source="t") == "stored"
    assert await intake.accept(newer, source="t") == "duplicate"
    assert await intake.accept(older, source="t") == "stale"
    assert judge.seen == [newer]


async def test_rejections_and_a_full_store_are_dropped_with_a_reason(intake_parts, make_hotkey):
    intake, judge, _store, drops = intake_parts
    hotkey = make_hotkey("ed25519")
    judge.refuse = "bad signature: detail"
    record = record_sign(hotkey=hotkey, key="kv:r", value=1, expires=time.time() + 60)
    assert await intake.check(record) == "bad signature: detail"
    assert await intake.accept(record, source="t") == "rejected: bad signature: detail"
    assert drops.counts["record rejected: bad signature"] == 1
    judge.refuse = None
    for i in range(2):
        assert (
            await intake.accept(
                record_sign(hotkey=make_hotkey("ed25519"), key=f"kv:{i}", value=i, expires=time.time() + 60), source="t"
            )
            == "stored"
        )
    assert await intake.accept(record, source="t") == "full"
    assert drops.counts["store full"] == 1


async def test_only_valid_writes_spend_the_owners_budget(intake_parts, make_hotkey):
    intake, judge, store, drops = intake_parts
    hotkey = make_hotkey("ed25519")
    now = time.time()
    versions = [record_sign(hotkey=hotkey, key="kv:v", value=i, expires=now + 60 + i) for i in range(3)]
    judge.refuse = "schema: nope"
    assert (await intake.accept(versions[2], source="t")).startswith("rejected: schema")
    judge.refuse = None
    assert [await intake.accept(v, source="t") for v in versions] == [
        "stored",
        "stored",
        "rejected: owner over write rate",
    ]
    assert store.current("kv:v", hotkey.ss58) == versions[1]
    assert drops.counts["owner over write rate"] == 1


@pytest.mark.parametrize(
    ("reason", "counted_as"),
    [
        ("expiry 133604s ahead exceeds the 86400s cap", "record rejected: expiry"),
        ("unknown namespace 'chosen-by-the-peer'", "record rejected: unknown namespace"),
        ("schema: value.port: not an int", "record rejected: schema"),
        ("owner stake 5 below 10", "record rejected: owner stake"),
        ("expired", "record rejected: expired"),
    ],
)
async def test_a_rejection_is_counted_by_its_fixed_words_not_the_figures_a_peer_chose(
    intake_parts, make_hotkey, reason, counted_as
):
    intake, judge, _store, drops = intake_parts
    judge.refuse = reason
    record = record_sign(hotkey=make_hotkey("ed25519"), key="kv:r", value=1, expires=time.time() + 60)
    assert await intake.accept(record, source="t") == f"rejected: {reason}"
    assert dict(drops.counts) == {counted_as: 1}

"""The in-memory record store: put outcomes (stored, duplicate, stale, full), the per-key and total
capacity, which version wins a (key, subkey) slot, paging by byte budget, the expiry sweep and
what the listener hears."""

import time
from collections.abc import Callable

import pytest
from pydantic import JsonValue

from dht.engine.codec import canonical_or_error
from dht.engine.record_store import PutOutcome, RecordStore
from dht.engine.records import Record, record_sign
from protocol.keys import Hotkey

Sign = Callable[..., Record]


class Listener:
    """Records what the store tells its persistence listener."""

    def __init__(self) -> None:
        self.stored: list[Record] = []
        self.dropped: list[list[tuple[str, str]]] = []

    def record_stored(self, record: Record) -> None:
        self.stored.append(record)

    def records_dropped(self, keys: list[tuple[str, str]]) -> None:
        self.dropped.append(keys)


@pytest.fixture
def owner(make_hotkey: Callable[..., Hotkey]) -> Hotkey:
    return make_hotkey("ed25519")


@pytest.fixture
def sign(owner: Hotkey) -> Sign:
    """Records signed by `owner`; the expiry defaults to a minute from now."""

    def _sign(
        key: str = "kv:a", value: JsonValue = 1, *, expires: float | None = None, subkey: str | None = None
    ) -> Record:
        at = expires if expires is not None else time.time() + 60
        return record_sign(hotkey=owner, key=key, value=value, expires=at, subkey=subkey)

    return _sign


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def store(listener: Listener) -> RecordStore:
    return RecordStore(max_records=100, max_subkeys_per_key=10, listener=listener)


def test_a_new_record_is_stored_and_the_listener_hears_it(store: RecordStore, listener: Listener, sign: Sign) -> None:
    record = sign()
    assert store.put(record) is PutOutcome.STORED
    assert store.current(record.key, record.subkey) == record
    assert len(store) == 1
    assert listener.stored == [record]


def test_the_same_record_again_is_a_duplicate_and_not_reported(
    store: RecordStore, listener: Listener, sign: Sign
) -> None:
    record = sign()
    store.put(record)
    copy = Record.model_validate(record.wire())
    assert store.precheck(copy) is PutOutcome.DUPLICATE
    assert store.put(copy) is PutOutcome.DUPLICATE
    assert (len(store), listener.stored) == (1, [record])


def test_an_older_version_is_stale_and_the_newer_one_stays(store: RecordStore, listener: Listener, sign: Sign) -> None:
    now = time.time()
    newer, older = sign(value="new", expires=now + 120), sign(value="old", expires=now + 60)
    store.put(newer)
    assert store.put(older) is PutOutcome.STALE
    assert store.current(newer.key, newer.subkey) == newer
    assert listener.stored == [newer]


def test_a_later_expiry_replaces_the_held_version_without_growing_the_count(
    store: RecordStore, listener: Listener, sign: Sign
) -> None:
    now = time.time()
    first, second = sign(value="v1", expires=now + 60), sign(value="v2", expires=now + 120)
    store.put(first)
    assert store.precheck(second) is None
    assert store.put(second) is PutOutcome.STORED
    assert store.current(first.key, first.subkey) == second
    assert store.records_of(first.key) == [second]
    assert (len(store), listener.stored) == (1, [first, second])


def test_an_expiry_tie_is_broken_by_signature_in_either_arrival_order(sign: Sign) -> None:
    # Two different values with the same expiry in the same slot: every replica keeps the same one.
    expires = time.time() + 60
    a, b = sign(value="a", expires=expires, subkey="slot"), sign(value="b", expires=expires, subkey="slot")
    winner, loser = (a, b) if a.sig > b.sig else (b, a)
    for order in ((winner, loser), (loser, winner)):
        store = RecordStore(max_records=10, max_subkeys_per_key=10)
        outcomes = [store.put(record) for record in order]
        assert store.current("kv:a", "slot") == winner
        assert outcomes == ([PutOutcome.STORED, PutOutcome.STALE] if order[0] is winner else [PutOutcome.STORED] * 2)


def test_a_key_with_all_its_subkeys_taken_is_full_but_held_slots_still_update(sign: Sign) -> None:
    store = RecordStore(max_records=100, max_subkeys_per_key=2)
    now = time.time()
    store.put(sign(subkey="s1", expires=now + 60))
    store.put(sign(subkey="s2", expires=now + 60))
    third = sign(subkey="s3")
    assert store.precheck(third) is PutOutcome.FULL
    assert store.put(third) is PutOutcome.FULL
    assert store.current("kv:a", "s3") is None
    # A newer version of a held subkey is not a new slot, and another key has its own limit.
    assert store.put(sign(subkey="s1", expires=now + 120)) is PutOutcome.STORED
    assert store.put(sign(key="kv:b", subkey="s3")) is PutOutcome.STORED
    assert len(store) == 3


def test_the_total_record_limit_refuses_new_slots_in_any_key(sign: Sign) -> None:
    store = RecordStore(max_records=2, max_subkeys_per_key=10)
    store.put(sign(key="kv:a"))
    store.put(sign(key="kv:b"))
    assert store.put(sign(key="kv:c")) is PutOutcome.FULL
    assert store.put(sign(key="kv:a", subkey="other")) is PutOutcome.FULL
    assert sorted(r.key for r in store.records()) == ["kv:a", "kv:b"]
    assert len(store) == 2


def test_notify_false_stores_without_telling_the_listener(store: RecordStore, listener: Listener, sign: Sign) -> None:
    record = sign()
    assert store.put(record, notify=False) is PutOutcome.STORED
    assert store.current(record.key, record.subkey) == record
    assert listener.stored == []


def test_a_store_without_a_listener_stores_and_sweeps(sign: Sign) -> None:
    store = RecordStore(max_records=10, max_subkeys_per_key=10)
    record = sign(expires=time.time() + 1)
    assert store.put(record) is PutOutcome.STORED
    assert store.sweep(time.time() + 2) == 1
    assert len(store) == 0


def test_sweep_drops_expired_records_and_reports_their_slots(
    store: RecordStore, listener: Listener, sign: Sign
) -> None:
    now = 1_900_000_000.0
    gone_a = sign(key="kv:a", subkey="s1", expires=now - 1)
    edge = sign(key="kv:a", subkey="s2", expires=now)  # expiring exactly now is expired
    kept = sign(key="kv:a", subkey="s3", expires=now + 1)
    gone_b = sign(key="kv:b", expires=now - 5)
    for record in (gone_a, edge, kept, gone_b):
        store.put(record)
    assert store.sweep(now) == 3
    assert sorted(listener.dropped[0]) == sorted([("kv:a", "s1"), ("kv:a", "s2"), ("kv:b", gone_b.subkey)])
    assert list(store.records()) == [kept]
    assert store.records_of("kv:b") == []
    assert len(store) == 1
    # The emptied key frees its capacity: a new record there is stored, not refused.
    assert store.put(sign(key="kv:b", expires=now + 10)) is PutOutcome.STORED


def test_a_sweep_with_nothing_expired_tells_the_listener_nothing(
    store: RecordStore, listener: Listener, sign: Sign
) -> None:
    store.put(sign())
    assert store.sweep(time.time()) == 0
    assert listener.dropped == []
    assert len(store) == 1


def test_lookups_of_unknown_keys_are_empty(store: RecordStore) -> None:
    assert store.current("kv:none", "x") is None
    assert store.records_of("kv:none") == []
    assert store.page("kv:none", after=None, budget_bytes=10_000) == ([], False)


def test_pages_follow_subkey_order_after_a_cursor(store: RecordStore, sign: Sign) -> None:
    records = {s: sign(subkey=s) for s in ("c", "a", "b", "d")}
    for record in records.values():
        store.put(record)
    page, more = store.page("kv:a", after=None, budget_bytes=100_000)
    assert ([r.subkey for r, _ in page], more) == (["a", "b", "c", "d"], False)
    assert [wire for _, wire in page] == [records[s].wire() for s in "abcd"]
    page, more = store.page("kv:a", after="b", budget_bytes=100_000)
    assert ([r.subkey for r, _ in page], more) == (["c", "d"], False)
    assert store.page("kv:a", after="d", budget_bytes=100_000) == ([], False)


def test_a_page_stops_at_the_byte_budget_and_says_there_is_more(store: RecordStore, sign: Sign) -> None:
    expires = time.time() + 60  # one expiry: every record has the same encoded size
    records = [sign(subkey=s, value="x" * 50, expires=expires) for s in ("a", "b", "c")]
    for record in records:
        store.put(record)
    size = len(canonical_or_error(records[0].wire()))
    # Two records need their bytes plus one separator: a byte less and only one fits.
    page, more = store.page("kv:a", after=None, budget_bytes=2 * size)
    assert ([r.subkey for r, _ in page], more) == (["a"], True)
    page, more = store.page("kv:a", after=None, budget_bytes=2 * size + 1)
    assert ([r.subkey for r, _ in page], more) == (["a", "b"], True)
    page, more = store.page("kv:a", after="b", budget_bytes=2 * size + 1)
    assert ([r.subkey for r, _ in page], more) == (["c"], False)


def test_a_record_larger_than_the_budget_still_makes_progress(store: RecordStore, sign: Sign) -> None:
    # Otherwise a key whose first record exceeds the budget could never be read.
    store.put(sign(subkey="a", value="x" * 500))
    store.put(sign(subkey="b"))
    page, more = store.page("kv:a", after=None, budget_bytes=10)
    assert ([r.subkey for r, _ in page], more) == (["a"], True)

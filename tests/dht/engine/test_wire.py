"""STORE batches fit a datagram and the per-request cap; envelopes round-trip and are refused
when over the size limit."""

import time

import pytest

from dht.engine.codec import CodecError
from dht.engine.records import Record, record_sign
from dht.engine.wire import envelope_fields, envelope_parse, envelope_seal, store_batches
from protocol.keys import Hotkey


def _records(hotkey: Hotkey, count: int, pad: int) -> list[Record]:
    expires = time.time() + 60
    return [record_sign(hotkey=hotkey, key=f"kv:{i}", value="x" * pad, expires=expires) for i in range(count)]


def test_batches_respect_the_record_cap_and_keep_order(make_hotkey):
    records = _records(make_hotkey("ed25519"), 10, pad=10)
    batches = store_batches(records, max_records=4, max_datagram_bytes=60_000)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [r for b in batches for r in b] == records


def test_batches_respect_the_datagram_budget(make_hotkey):
    records = _records(make_hotkey("ed25519"), 5, pad=3_000)
    batches = store_batches(records, max_records=16, max_datagram_bytes=10_000)
    assert [len(b) for b in batches] == [2, 2, 1]
    # A record bigger than the budget still goes, alone (the peer refuses it, not the sender).
    assert store_batches(records[:2], max_records=16, max_datagram_bytes=1_000) == [[records[0]], [records[1]]]
    assert store_batches([], max_records=16, max_datagram_bytes=1_000) == []


def test_envelopes_round_trip_and_are_capped(make_hotkey):
    hotkey = make_hotkey("ed25519")
    fields = envelope_fields(hotkey=hotkey, kind="req", op="ping", to=None, body={})
    envelope = envelope_parse(envelope_seal(hotkey=hotkey, fields=fields, max_bytes=1_000), max_bytes=1_000)
    assert (envelope.sender, envelope.op, envelope.to) == (hotkey.ss58, "ping", None)
    assert envelope.signature_ok()
    big = envelope_fields(hotkey=hotkey, kind="req", op="ping", to=None, body={"pad": "x" * 2_000})
    with pytest.raises(CodecError, match="exceeds"):
        envelope_seal(hotkey=hotkey, fields=big, max_bytes=1_000)

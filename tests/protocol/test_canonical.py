import json

from protocol.canonical import canonical_json


def test_key_order_does_not_change_the_bytes():
    a = {"b": 1, "a": {"y": [1, 2], "x": None}}
    b = {"a": {"x": None, "y": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b) == b'{"a":{"x":null,"y":[1,2]},"b":1}'


def test_no_whitespace_and_utf8_not_escaped():
    assert canonical_json({"k": "é ü", "n": [1, 2.5]}) == '{"k":"é ü","n":[1,2.5]}'.encode()


def test_round_trips_through_json():
    value = {"nonce": "ab" * 16, "timestamp": 1700000000.123456, "peer_nonce": None, "list": ["z", "a"]}
    assert json.loads(canonical_json(value)) == value
    # List order is data, not formatting: it is kept.
    assert canonical_json({"l": ["z", "a"]}) != canonical_json({"l": ["a", "z"]})


def test_same_value_same_bytes_every_time():
    value = {str(i): i for i in range(50)}
    assert len({canonical_json(dict(reversed(list(value.items())))) for _ in range(5)} | {canonical_json(value)}) == 1

"""Decoding hostile bytes is bounded and safe; encoding refuses what peers could not decode."""

import pytest

from dht.engine.codec import CodecError, canonical_or_error, decode, encode
from protocol.canonical import canonical_json


@pytest.mark.parametrize(
    "data",
    [b"NaN", b'{"a": Infinity}', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b'{"a": 1', b""],
)
def test_hostile_input_is_a_codec_error(data):
    with pytest.raises(CodecError):
        decode(data, max_bytes=1_000_000)


def test_size_is_checked_before_parsing():
    with pytest.raises(CodecError, match="exceeds"):
        decode(b"1" * 101, max_bytes=100)
    with pytest.raises(CodecError, match="exceeds"):
        encode("x" * 200, max_bytes=100)


def test_canonical_is_protocol_canonical_json_and_refuses_non_finite():
    value = {"b": [1, 2.5, "é"], "a": {"z": None, "y": True}}
    assert canonical_or_error(value) == canonical_json(value)
    assert decode(canonical_or_error(value), max_bytes=1000) == value
    with pytest.raises(CodecError):
        encode({"x": float("nan")}, max_bytes=1000)


@pytest.mark.parametrize("value", [float("nan"), [1.0, float("inf")], {"a": {"b": -float("inf")}}, {float("nan"): 1}])
def test_non_finite_numbers_anywhere_are_refused(value):
    with pytest.raises(CodecError, match="non-finite"):
        canonical_or_error(value)


def test_strings_that_spell_non_finite_numbers_are_fine():
    value = {"NaN": "Infinity", "n": [-1.5, "-Infinity"]}
    assert canonical_or_error(value) == canonical_json(value)

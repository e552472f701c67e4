"""Hypothesis strategies for hostile frames.

`frames(valid)` takes a strategy of well-formed messages (dicts of one direction's union, built
from the models' own fields and bounds) and turns them into what a hostile peer sends: the message
as is, or with a field of the wrong type, a field missing or unknown, an unknown `type`, NUL bytes
in its text, deep nesting, huge numbers, NaN/Infinity; or raw frames that are not a message at all
(invalid UTF-8, not JSON, nesting bombs, oversize). Each frame is text or bytes, as a websocket
carries it."""

import json
import string
from typing import Any

from hypothesis import strategies as st

# Text with the characters that break things downstream: NUL (Postgres), controls, non-BMP.
hostile_chars = st.sampled_from(["\x00", "\n", "\\", '"', "\u2028", "\ufffd", "\U0001f600", "é"])
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=hostile_chars, min_size=1, max_size=8),
    st.builds(lambda head, tail: f"{head}\x00{tail}", st.text(max_size=10), st.text(max_size=10)),
)
huge_ints = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**200), st.integers(max_value=-(2**62)))
any_floats = st.floats(allow_nan=True, allow_infinity=True)


def json_trees(numbers: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), huge_ints, numbers, texts)
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
        max_leaves=12,
    )


json_values = json_trees(any_floats)
finite_json_values = json_trees(st.floats(allow_nan=False, allow_infinity=False))  # what a signer can sign
hex_chars = st.text(alphabet="0123456789abcdef", min_size=1, max_size=130)
signatures = st.one_of(hex_chars.map(lambda h: "0x" + h), texts)


def uuid_texts(known: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    fresh = st.uuids().map(str)
    return fresh if known is None else st.one_of(known, fresh)


def seconds() -> st.SearchStrategy[float]:
    """Plausible durations, and absurd ones a lying peer would claim."""
    return st.one_of(
        st.floats(min_value=0, max_value=86_400),
        st.floats(min_value=0, allow_infinity=True, allow_nan=False),
        st.sampled_from([1e308, 1e16, 2**63 + 0.0, -1.0]),
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A well-formed message with one hostile change somewhere in its tree."""
    message = draw(valid)
    node: Any = message
    # Walk down to a random nested object, so deep fields are hit as often as top-level ones.
    while True:
        children = [k for k, v in node.items() if isinstance(v, dict)]
        if not children or draw(st.booleans()):
            break
        node = node[draw(st.sampled_from(sorted(children)))]
    keys = sorted(node)
    change = draw(st.sampled_from(["retype", "drop", "add", "nul", "type"] if keys else ["add", "type"]))
    if change == "retype":
        node[draw(st.sampled_from(keys))] = draw(json_values)
    elif change == "drop":
        del node[draw(st.sampled_from(keys))]
    elif change == "add":
        node[draw(texts)] = draw(json_values)
    elif change == "nul":
        key = draw(st.sampled_from(keys))
        node[key] = f"{node[key]}\x00" if isinstance(node[key], str) else "\x00"
    else:
        message["type"] = draw(st.one_of(texts, st.sampled_from(["job.", "error ", "JOB.STATUS", ""]), json_values))
    return message


def _json_text(message: Any) -> str:
    return json.dumps(message)  # NaN/Infinity are written as bare tokens, as a hostile peer may


@st.composite
def _nested_in_field(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]]) -> str:
    """A well-formed message with a nesting bomb in one field, inside the frame size limit."""
    message = draw(valid)
    key = draw(st.sampled_from(sorted(message)))
    message[key] = "BOMB"
    bomb = nested(draw(st.integers(min_value=900, max_value=20_000)))
    return _json_text(message).replace('"BOMB"', bomb, 1)


def raw_frames(max_frame_bytes: int) -> st.SearchStrategy[str | bytes]:
    """Frames that are not a message at all."""
    return st.one_of(
        st.binary(max_size=64),
        st.just(b"\xff\xfe{}"),
        st.text(alphabet=string.printable, max_size=40),
        st.integers(min_value=900, max_value=30_000).map(nested),
        st.integers(min_value=900, max_value=30_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
        json_values.map(_json_text),
        st.integers(min_value=1, max_value=64).map(lambda extra: "x" * (max_frame_bytes + extra)),
    )


def frames(valid: st.SearchStrategy[dict[str, Any]], *, max_frame_bytes: int) -> st.SearchStrategy[str | bytes]:
    as_text = st.one_of(valid, mutated(valid)).map(_json_text)
    return st.one_of(
        as_text,
        as_text.map(str.encode),  # binary frames carry the same JSON
        _nested_in_field(valid),
        raw_frames(max_frame_bytes),
    )

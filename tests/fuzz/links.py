"""`ProbedLink`: one authenticated websocket link to a consumer, driven in-process, that sends a
batch of fuzzed frames followed by a probe and collects everything the consumer sent in between.

The probe is a frame of a unique unknown type: the consumer handles frames in order, so its
UNKNOWN_TYPE answer to the probe marks the end of the answers to the batch and proves the
consumer is alive and still serving. Every frame it sends must parse as its outgoing union."""

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from channels.testing import WebsocketCommunicator
from pydantic import BaseModel, TypeAdapter, ValidationError

from protocol.handshake import handshake_build
from protocol.keys import Hotkey
from protocol.messages.common import ErrorCode, ErrorMessage

PROBE_PREFIX = "fuzz.probe."
REPLY_TIMEOUT_S = 30.0  # generous: the machine is shared; a live consumer answers in milliseconds
# What a frame the incoming union refuses must be answered with.
REFUSAL_CODES = {ErrorCode.MALFORMED, ErrorCode.UNKNOWN_TYPE, ErrorCode.TOO_LARGE}


class LinkBroken(AssertionError):
    """The consumer closed, crashed or went silent after a frame."""


@dataclass
class Exchange:
    frames: list[str | bytes]
    replies: list[BaseModel] = field(default_factory=list)

    def errors(self) -> list[ErrorMessage]:
        return [r for r in self.replies if isinstance(r, ErrorMessage)]


class ProbedLink:
    def __init__(
        self, comm: WebsocketCommunicator, *, dialer: Hotkey, outgoing: TypeAdapter[Any], tally: Counter[str]
    ) -> None:
        self.comm = comm
        self.dialer = dialer
        self.outgoing = outgoing
        self.tally = tally
        self.sent = 0

    @classmethod
    async def open(
        cls,
        application: Any,
        *,
        path: str,
        dialer: Hotkey,
        server_ss58: str,
        outgoing: TypeAdapter[Any],
        tally: Counter[str],
    ) -> "ProbedLink":
        """Connect and pass the real signed handshake as `dialer`."""
        comm = WebsocketCommunicator(application, path)
        connected, _ = await comm.connect()
        assert connected
        hello = handshake_build(hotkey=dialer, peer_hotkey=server_ss58, path=path)
        await comm.send_to(text_data=hello.model_dump_json())
        reply = await comm.receive_json_from(timeout=REPLY_TIMEOUT_S)
        assert reply["type"] == "handshake", reply
        return cls(comm, dialer=dialer, outgoing=outgoing, tally=tally)

    async def exchange(self, frames: list[str | bytes]) -> Exchange:
        self.sent += 1
        probe = f"{PROBE_PREFIX}{self.sent}"
        for frame in frames:
            # send_input, not send_to: an empty frame is a frame too.
            kind = "bytes" if isinstance(frame, bytes) else "text"
            await self.comm.send_input({"type": "websocket.receive", kind: frame})
        await self.comm.send_to(text_data=json.dumps({"type": probe}))
        exchange = Exchange(frames=frames)
        while True:
            message = await self.receive(after=frames)
            if (
                isinstance(message, ErrorMessage)
                and message.code == ErrorCode.UNKNOWN_TYPE
                and repr(probe) in message.detail
            ):
                self.tally["frames"] += len(frames)
                self.tally.update(_kind(r) for r in exchange.replies)
                return exchange
            exchange.replies.append(message)

    async def receive(self, *, after: list[str | bytes]) -> BaseModel:
        try:
            event = await self.comm.receive_output(timeout=REPLY_TIMEOUT_S)
        except TimeoutError as exc:
            raise LinkBroken(f"no answer after {_shown(after)}") from exc
        if event["type"] == "websocket.close":
            raise LinkBroken(f"closed with {event.get('code')} after {_shown(after)}")
        text = event.get("text") or event.get("bytes")
        try:
            message: BaseModel = self.outgoing.validate_json(text)
        except ValidationError as exc:
            raise LinkBroken(f"untyped frame {text!r:.300} after {_shown(after)}: {exc}") from exc
        return message

    async def close(self) -> None:
        await self.comm.disconnect()


def well_formed(frame: str | bytes, incoming: TypeAdapter[Any], *, max_bytes: int) -> bool:
    """Whether the consumer must accept the frame as a message (the oracle for typed refusals)."""
    size = len(frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return False
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return False
    try:
        incoming.validate_python(data)
    except (ValidationError, RecursionError):
        return False
    return True


def assert_typed_answers(exchange: Exchange, *, refused: int) -> None:
    """Each of the `refused` frames got a typed refusal (a handler may refuse a well-formed one
    too: at least that many); no frame ever gets INTERNAL (a handler that raised)."""
    internal = [e for e in exchange.errors() if e.code == ErrorCode.INTERNAL]
    assert not internal, f"handler failed on {_shown(exchange.frames)}: {internal}"
    refusals = [e for e in exchange.errors() if e.code in REFUSAL_CODES]
    assert len(refusals) >= refused, f"{refused} refused frames, {len(refusals)} refusals: {_shown(exchange.frames)}"


def _kind(message: BaseModel) -> str:
    kind = str(getattr(message, "type", type(message).__name__))
    return f"{kind}:{message.code}" if isinstance(message, ErrorMessage) else kind


def _shown(frames: list[str | bytes]) -> str:
    return "; ".join(f"frame {frame[:300]!r} ({len(frame)} long)" for frame in frames)

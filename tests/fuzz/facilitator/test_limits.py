"""With the default limits (no `fuzz_limits`), a peer sending the fuzzer's refused frames is banned:
the fuzz tests raise the limits only so that their frames reach the code under test."""

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from protocol.consumer import CloseCode
from protocol.handshake import handshake_build
from protocol.keys import Hotkey
from protocol.messages.facilitator import ValidatorToFacilitator
from tests.fuzz.budget import FUZZ_MAX_FRAME_BYTES
from tests.fuzz.facilitator.test_consumers import PATH, application
from tests.fuzz.links import well_formed
from tests.fuzz.strategies import raw_frames

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces"),
]
incoming: TypeAdapter[Any] = TypeAdapter(ValidatorToFacilitator)
# Oversize at the fuzz tests' limit: not too large for the default one, but not JSON either.
refused = raw_frames(FUZZ_MAX_FRAME_BYTES).filter(
    lambda f: not well_formed(f, incoming, max_bytes=settings.PROTOCOL_MAX_FRAME_BYTES)
)


@given(frames=st.lists(refused, min_size=settings.PROTOCOL_BAN_STRIKES, max_size=settings.PROTOCOL_BAN_STRIKES))
@hypothesis_settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
async def test_a_peer_sending_refused_frames_is_banned_under_the_default_limits(
    frames: list[str | bytes], validator_key: Hotkey, node_key: Hotkey
) -> None:
    comm = WebsocketCommunicator(application, PATH)
    assert (await comm.connect())[0]
    await comm.send_to(
        text_data=handshake_build(hotkey=validator_key, peer_hotkey=node_key.ss58, path=PATH).model_dump_json()
    )
    assert (await comm.receive_json_from(timeout=10))["type"] == "handshake"
    for frame in frames:
        kind = "bytes" if isinstance(frame, bytes) else "text"
        await comm.send_input({"type": "websocket.receive", kind: frame})
    answers = []
    while (event := await comm.receive_output(timeout=10))["type"] != "websocket.close":
        answers.append(json.loads(event["text"]))
    assert event["code"] == CloseCode.BANNED
    # Each frame was refused with a typed error, the last strike with the ban.
    assert len(answers) == len(frames) + 1
    assert {a["code"] for a in answers[:-1]} <= {"malformed", "unknown_type", "too_large"}
    assert answers[-1]["code"] == "banned"
    await comm.disconnect()

"""The validator channel's handshake: who may connect, and every way a hello is refused."""

import json
import time
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings

from chain.interface import Role
from chain.local import LocalChain
from facilitator.models import ValidatorSession
from protocol.canonical import canonical_json
from protocol.consumer import CloseCode
from protocol.handshake import handshake_build, handshake_verify
from protocol.keys import hotkey_create
from tests.facilitator.consumers.channel import (
    PATH,
    channel_connect,
    channel_open,
    closed_with,
    db,
    error_frame,
    eventually,
    status_frame,
)

# --- handshake ---------------------------------------------------------------------------


@db
async def test_good_handshake_gets_a_signed_reply_answering_our_nonce(registered_validator_key, node_key, nonces):
    comm, hello, reply = await channel_connect(registered_validator_key, node_key.ss58)
    from protocol.messages.common import Handshake

    message = Handshake.model_validate(reply)
    await handshake_verify(
        message=message,
        own_hotkey=registered_validator_key.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=settings.HANDSHAKE_MAX_AGE_S,
        expected_peer=node_key.ss58,
        expected_peer_nonce=hello.nonce,
    )
    assert await eventually(
        lambda: ValidatorSession.objects.filter(hotkey=registered_validator_key.ss58, disconnected_at=None).count() == 1
    )
    await comm.disconnect()
    assert await eventually(
        lambda: ValidatorSession.objects.get(hotkey=registered_validator_key.ss58).disconnected_at is not None
    )


async def test_first_frame_must_be_a_handshake(stranger, node_key):
    comm = await channel_open()
    await comm.send_to(text_data=status_frame(uuid.uuid4(), "running"))
    error = await error_frame(comm)
    assert error["code"] == "malformed"
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_garbage_first_frame_is_refused(stranger, node_key):
    comm = await channel_open()
    await comm.send_to(text_data="hello?")
    assert (await error_frame(comm))["code"] == "malformed"
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_oversized_handshake_is_refused(stranger, node_key):
    comm = await channel_open()
    await comm.send_to(text_data=json.dumps({"type": "handshake", "pad": "x" * 70_000}))
    assert (await error_frame(comm))["code"] == "too_large"
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_no_handshake_in_time_closes(stranger, node_key):
    comm = await channel_open("/quick" + PATH)
    assert await closed_with(comm) == CloseCode.HANDSHAKE_TIMEOUT


async def test_forged_handshake_is_refused(stranger, node_key):
    comm = await channel_open()
    hello = handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path=PATH)
    forged = hello.model_copy(update={"signature": hotkey_create()[0].sign(canonical_json(hello.signed_fields()))})
    await comm.send_to(text_data=forged.model_dump_json())
    error = await error_frame(comm)
    assert error["code"] == "unauthenticated"
    assert "bad signature" in error["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_stale_handshake_is_refused(stranger, node_key):
    import time_machine

    with time_machine.travel(time.time() - settings.HANDSHAKE_MAX_AGE_S - 10, tick=False):
        hello = handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path=PATH)
    comm = await channel_open()
    await comm.send_to(text_data=hello.model_dump_json())
    error = await error_frame(comm)
    assert error["code"] == "unauthenticated"
    assert "timestamp" in error["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


@db
async def test_replayed_handshake_is_refused(registered_validator_key, node_key):
    hello = handshake_build(hotkey=registered_validator_key, peer_hotkey=node_key.ss58, path=PATH)
    first = await channel_open()
    await first.send_to(text_data=hello.model_dump_json())
    assert (await first.receive_json_from(timeout=3))["type"] == "handshake"
    # An eavesdropper replays the same hello on a new connection.
    second = await channel_open()
    await second.send_to(text_data=hello.model_dump_json())
    error = await error_frame(second)
    assert error["code"] == "unauthenticated"
    assert "replayed" in error["detail"]
    assert await closed_with(second) == CloseCode.UNAUTHENTICATED
    await first.disconnect()


async def test_handshake_for_another_node_is_refused(stranger, node_key):
    other = hotkey_create()[0]
    comm = await channel_open()
    await comm.send_to(text_data=handshake_build(hotkey=stranger, peer_hotkey=other.ss58, path=PATH).model_dump_json())
    error = await error_frame(comm)
    assert error["code"] == "unauthenticated"
    assert "another node" in error["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_handshake_signed_for_the_miner_path_is_refused(stranger, node_key):
    comm = await channel_open()
    hello = handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path="/v1/miner/")
    await comm.send_to(text_data=hello.model_dump_json())
    assert "path" in (await error_frame(comm))["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHENTICATED


@db
async def test_unregistered_validator_is_unauthorized(node_key, executor_classes):
    stranger = hotkey_create()[0]
    comm = await channel_open()
    await comm.send_to(
        text_data=handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path=PATH).model_dump_json()
    )
    error = await error_frame(comm)
    assert error["code"] == "unauthorized"
    assert "not registered" in error["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHORIZED
    assert await sync_to_async(ValidatorSession.objects.count)() == 0


@db
async def test_under_staked_validator_is_unauthorized(node_key, executor_classes):
    poor = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=poor.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    await sync_to_async(chain.add_stake)(hotkey=poor.ss58, amount=settings.MIN_VALIDATOR_STAKE - 1)
    comm = await channel_open()
    await comm.send_to(text_data=handshake_build(hotkey=poor, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    error = await error_frame(comm)
    assert error["code"] == "unauthorized"
    assert "stake" in error["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHORIZED


@db
async def test_a_miner_cannot_connect_as_a_validator(node_key, executor_classes):
    miner = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=miner.ss58, coldkey=hotkey_create()[0].ss58, role=Role.MINER)
    await sync_to_async(chain.add_stake)(hotkey=miner.ss58, amount=settings.MIN_VALIDATOR_STAKE * 10)
    comm = await channel_open()
    await comm.send_to(text_data=handshake_build(hotkey=miner, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    assert "not a validator" in (await error_frame(comm))["detail"]
    assert await closed_with(comm) == CloseCode.UNAUTHORIZED


@db
async def test_a_second_handshake_after_authentication_is_just_an_unknown_frame(registered_validator_key, node_key):
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    again = handshake_build(hotkey=registered_validator_key, peer_hotkey=node_key.ss58, path=PATH)
    await comm.send_to(text_data=again.model_dump_json())
    assert (await error_frame(comm))["code"] == "unknown_type"
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()

import time

import pytest
import time_machine

from protocol.handshake import handshake_build, handshake_verify
from protocol.keys import hotkey_create
from protocol.messages.common import ErrorCode
from protocol.wire import ProtocolError

PATH = "/v1/facilitator/"
MAX_AGE = 30.0


@pytest.fixture
def server():
    return hotkey_create("ed25519")[0]


async def _refused(message, match, **kwargs):
    with pytest.raises(ProtocolError, match=match) as info:
        await handshake_verify(message=message, **kwargs)
    assert info.value.code == ErrorCode.UNAUTHENTICATED
    return info.value


async def test_valid_hello_is_accepted(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    assert (hello.hotkey, hello.peer_hotkey, hello.path, hello.crypto) == (dialer.ss58, server.ss58, PATH, "sr25519")
    assert len(hello.nonce) == 32
    assert hello.peer_nonce is None
    await handshake_verify(message=hello, own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_every_hello_has_a_fresh_nonce(dialer, server):
    nonces = {handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH).nonce for _ in range(20)}
    assert len(nonces) == 20


async def test_reply_answering_our_nonce_is_accepted(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    reply = handshake_build(hotkey=server, peer_hotkey=dialer.ss58, path=PATH, peer_nonce=hello.nonce)
    assert reply.crypto == "ed25519"
    await handshake_verify(
        message=reply,
        own_hotkey=dialer.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=MAX_AGE,
        expected_peer=server.ss58,
        expected_peer_nonce=hello.nonce,
    )


async def test_forged_signature_is_refused(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    impostor = hotkey_create()[0]
    # Someone else signs a hello claiming to be `dialer`.
    forged = hello.model_copy(update={"signature": impostor.sign(b"anything")})
    await _refused(forged, "bad signature", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_tampered_field_breaks_the_signature(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    tampered = hello.model_copy(update={"timestamp": hello.timestamp + 1})
    await _refused(tampered, "bad signature", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_claiming_another_crypto_breaks_the_signature(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    lying = hello.model_copy(update={"crypto": "ed25519"})
    await _refused(lying, "bad signature", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_garbage_signature_is_refused_not_crashing(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    garbage = hello.model_copy(update={"signature": "0xnothex"})
    await _refused(garbage, "bad signature", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


@pytest.mark.parametrize("offset", [-(MAX_AGE + 5), MAX_AGE + 5, -3600])
async def test_stale_or_future_timestamp_is_refused(dialer, server, nonces, offset):
    with time_machine.travel(time.time() + offset, tick=False):
        hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    await _refused(hello, "timestamp", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_slightly_old_timestamp_is_accepted(dialer, server, nonces):
    with time_machine.travel(time.time() - (MAX_AGE - 5), tick=False):
        hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    await handshake_verify(message=hello, own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


@pytest.mark.parametrize("timestamp", [float("nan"), float("inf"), float("-inf")])
async def test_non_finite_timestamp_is_refused_even_when_signed(dialer, server, nonces, timestamp):
    # A hello signed with a NaN timestamp would otherwise never go stale.
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    unsigned = hello.model_copy(update={"timestamp": timestamp, "signature": ""})
    from protocol.canonical import canonical_json

    signed = unsigned.model_copy(update={"signature": dialer.sign(canonical_json(unsigned.signed_fields()))})
    await _refused(signed, "timestamp", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_replayed_hello_is_refused(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    await handshake_verify(message=hello, own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)
    await _refused(hello, "replayed", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_replay_is_refused_across_store_instances(dialer, server, nonce_prefix):
    # Replay protection lives in Redis, so another worker process of the same node refuses it too.
    from protocol.nonces import RedisNonceStore

    first, second = RedisNonceStore(prefix=nonce_prefix), RedisNonceStore(prefix=nonce_prefix)
    try:
        hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
        await handshake_verify(message=hello, own_hotkey=server.ss58, path=PATH, nonces=first, max_age_s=MAX_AGE)
        await _refused(hello, "replayed", own_hotkey=server.ss58, path=PATH, nonces=second, max_age_s=MAX_AGE)
    finally:
        await first.close()
        await second.close()


async def test_a_refused_hello_does_not_burn_its_nonce(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    forged = hello.model_copy(update={"signature": hotkey_create()[0].sign(b"x")})
    await _refused(forged, "bad signature", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)
    # The genuine hello with the same nonce still goes through: forgeries cannot block a peer.
    await handshake_verify(message=hello, own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_hello_addressed_to_another_node_is_refused(dialer, server, nonces):
    someone_else = hotkey_create()[0]
    hello = handshake_build(hotkey=dialer, peer_hotkey=someone_else.ss58, path=PATH)
    await _refused(hello, "another node", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_hello_signed_for_another_path_is_refused(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path="/v1/miner/")
    await _refused(hello, "path", own_hotkey=server.ss58, path=PATH, nonces=nonces, max_age_s=MAX_AGE)


async def test_reply_from_someone_we_did_not_dial_is_refused(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    impostor = hotkey_create()[0]
    reply = handshake_build(hotkey=impostor, peer_hotkey=dialer.ss58, path=PATH, peer_nonce=hello.nonce)
    await _refused(
        reply,
        "expected",
        own_hotkey=dialer.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=MAX_AGE,
        expected_peer=server.ss58,
        expected_peer_nonce=hello.nonce,
    )


@pytest.mark.parametrize("peer_nonce", [None, "00" * 16])
async def test_reply_not_answering_our_nonce_is_refused(dialer, server, nonces, peer_nonce):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    reply = handshake_build(hotkey=server, peer_hotkey=dialer.ss58, path=PATH, peer_nonce=peer_nonce)
    await _refused(
        reply,
        "nonce",
        own_hotkey=dialer.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=MAX_AGE,
        expected_peer=server.ss58,
        expected_peer_nonce=hello.nonce,
    )


async def test_peer_nonce_is_covered_by_the_signature(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    old_reply = handshake_build(hotkey=server, peer_hotkey=dialer.ss58, path=PATH, peer_nonce="11" * 16)
    rebound = old_reply.model_copy(update={"peer_nonce": hello.nonce})
    await _refused(
        rebound,
        "bad signature",
        own_hotkey=dialer.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=MAX_AGE,
        expected_peer=server.ss58,
        expected_peer_nonce=hello.nonce,
    )

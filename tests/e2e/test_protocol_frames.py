"""Hostile frames against the running nodes: each gets a typed error and the node keeps serving."""

import json
import time
import uuid

import pytest
from websockets.sync.client import connect

from deploy.localnet.tls import cert_paths
from protocol.canonical import canonical_json
from protocol.handshake import handshake_build
from protocol.keys import hotkey_create, hotkey_load
from protocol.tls import cert_file_fingerprint, client_ssl_context
from tests.e2e.conftest import submit, wait_for
from tests.receipts import signed_reserve

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def _recv_json(ws) -> dict:
    return json.loads(ws.recv(timeout=10))


def _connect(node, path: str):
    """The node's websocket as its peers reach it: its TLS port, unless the network runs plain."""
    if node.tls_port:
        return connect(f"wss://127.0.0.1:{node.tls_port}{path}", ssl=client_ssl_context())
    return connect(f"ws://127.0.0.1:{node.port}{path}")


def _fingerprint(network, node) -> str | None:
    """What a dialer signs in its hello: the certificate the node presents (its own, no relay here)."""
    return cert_file_fingerprint(cert_paths(network.dir / "tls", node.name)[0]) if node.tls_port else None


def test_garbage_before_the_handshake_gets_a_typed_error_and_a_close(network):
    miner = network.node("miner1")
    with _connect(miner, "/v1/miner/") as ws:
        ws.send("this is not json")
        reply = _recv_json(ws)
        assert reply == {"type": "error", "code": "malformed", "detail": reply["detail"]}
        assert "not JSON" in reply["detail"]
        with pytest.raises(Exception, match="4003"):
            ws.recv(timeout=5)


def test_forged_handshake_is_refused(network):
    miner = network.node("miner1")
    validator = network.node("validator1")
    impostor, _ = hotkey_create()
    hello = handshake_build(
        hotkey=impostor, peer_hotkey=miner.hotkey.ss58, path="/v1/miner/", tls_fingerprint=_fingerprint(network, miner)
    )
    # Claim to be the real validator while signing with another key.
    forged = hello.model_copy(update={"hotkey": validator.hotkey.ss58})
    with _connect(miner, "/v1/miner/") as ws:
        ws.send(forged.model_dump_json())
        reply = _recv_json(ws)
    assert reply["type"] == "error"
    assert reply["code"] == "unauthenticated"
    assert "bad signature" in reply["detail"]


def test_unregistered_key_is_refused_at_the_facilitator(network):
    facilitator = network.node("facilitator")
    stranger, _ = hotkey_create()
    hello = handshake_build(
        hotkey=stranger,
        peer_hotkey=facilitator.hotkey.ss58,
        path="/v1/facilitator/",
        tls_fingerprint=_fingerprint(network, facilitator),
    )
    with _connect(facilitator, "/v1/facilitator/") as ws:
        ws.send(hello.model_dump_json())
        reply = _recv_json(ws)
    assert reply["type"] == "error"
    assert reply["code"] == "unauthorized"
    assert "not registered" in reply["detail"]


def test_malformed_frames_after_the_handshake_get_errors_and_the_miner_keeps_serving(network, api):
    miner = network.node("miner2")
    key = hotkey_load(network.dir / "keys" / "validator1.json")
    hello = handshake_build(
        hotkey=key, peer_hotkey=miner.hotkey.ss58, path="/v1/miner/", tls_fingerprint=_fingerprint(network, miner)
    )
    with _connect(miner, "/v1/miner/") as ws:
        ws.send(hello.model_dump_json())
        assert _recv_json(ws)["type"] == "handshake"
        assert _recv_json(ws)["type"] == "miner.manifest"  # what a miner sends right after the handshake
        ws.send(b"\xff\xfe binary junk")
        assert _recv_json(ws)["code"] == "malformed"
        ws.send(json.dumps({"type": "job.launch_missiles"}))
        assert _recv_json(ws)["code"] == "unknown_type"
        ws.send(canonical_json({"type": "job.reserve", "job_uuid": "not-a-uuid"}))
        assert _recv_json(ws)["code"] == "malformed"
        ws.send(
            json.dumps(
                {
                    "type": "job.run",
                    "job_uuid": "00000000-0000-0000-0000-000000000001",
                    "spec": {"image": "x", "executor_class": "cpu.small", "timeout_s": 5},
                }
            )
        )
        assert _recv_json(ws)["code"] == "unexpected"
        reserve = signed_reserve(
            validator=key,
            miner_hotkey=miner.hotkey.ss58,
            job_uuid=uuid.UUID("00000000-0000-0000-0000-000000000002"),
            executor_class="gpu.imaginary",
            image="x",
            timeout_s=5,
        )
        ws.send(reserve.model_dump_json())
        declined = _recv_json(ws)
        assert declined["type"] == "job.declined"
        assert declined["reason"] == "unknown_executor_class"
    time.sleep(0.2)
    done = wait_for(api, submit(api, args=["python3", "-c", "print('still serving')"])["uuid"])
    assert done["status"] == "completed"
    assert done["stdout"] == "still serving\n"


def test_plain_websockets_are_refused_when_the_network_uses_tls(network):
    miner = network.node("miner1")
    if not miner.tls_port:
        pytest.skip("LOCALNET_TLS=0: this network runs plain websockets")
    key = hotkey_load(network.dir / "keys" / "validator1.json")  # a registered validator, over plain ws
    hello = handshake_build(hotkey=key, peer_hotkey=miner.hotkey.ss58, path="/v1/miner/")
    with connect(f"ws://127.0.0.1:{miner.port}/v1/miner/") as ws:
        ws.send(hello.model_dump_json())
        reply = _recv_json(ws)
    assert (reply["type"], reply["code"]) == ("error", "unauthenticated")
    assert reply["detail"].startswith("tls plain_refused:")

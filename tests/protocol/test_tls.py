"""protocol/tls.py: certificates, fingerprints signed in the handshake and checked against the
channel, the URLs peers are dialed at, and daphne's TLS endpoint."""

import json
import stat

import pytest
from cryptography import x509
from websockets.exceptions import InvalidURI

from protocol.handshake import handshake_build, handshake_verify
from protocol.keys import hotkey_create
from protocol.messages.common import ErrorCode, ErrorMessage
from protocol.tls import (
    TlsConfigError,
    TlsRefusal,
    TlsRefusalReason,
    cert_file_fingerprint,
    daphne_tls_args,
    node_tls_fingerprint,
    node_tls_required,
    peer_ws_url,
    self_signed_cert_write,
    tls_refusal_from_error,
)
from protocol.wire import ProtocolError, encode

PATH = "/v1/miner/"
MAX_AGE = 30.0
FP_A, FP_B = "a" * 64, "b" * 64


@pytest.fixture
def server():
    return hotkey_create("ed25519")[0]


def test_a_self_signed_certificate_has_a_private_key_and_the_fingerprint_it_reports(tmp_path):
    cert, key = tmp_path / "tls" / "n.crt", tmp_path / "tls" / "n.key"
    digest = self_signed_cert_write(cert_path=cert, key_path=key, common_name="miner1", hosts=["127.0.0.1", "node"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert cert_file_fingerprint(cert) == digest
    assert len(digest) == 64
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["node"]
    again = self_signed_cert_write(cert_path=cert, key_path=key, common_name="miner1", hosts=["127.0.0.1"])
    assert again != digest
    assert cert_file_fingerprint(cert) == again


def test_an_unreadable_certificate_is_a_config_error(tmp_path):
    (tmp_path / "junk.crt").write_text("not a certificate")
    for path in (tmp_path / "missing.crt", tmp_path / "junk.crt"):
        with pytest.raises(TlsConfigError, match=str(path)):
            cert_file_fingerprint(path)


def test_the_node_fingerprint_follows_its_settings(settings, tmp_path):
    settings.TLS_CERT_PATH = ""
    assert (node_tls_fingerprint(), node_tls_required()) == (None, False)
    cert = tmp_path / "n.crt"
    digest = self_signed_cert_write(cert_path=cert, key_path=tmp_path / "n.key", common_name="n", hosts=[])
    settings.TLS_CERT_PATH, settings.TLS_REQUIRED = str(cert), True
    assert (node_tls_fingerprint(), node_tls_required()) == (digest, True)
    settings.TLS_REQUIRED = False
    assert node_tls_required() is False


async def test_the_fingerprint_is_signed(dialer, server, nonces):
    reply = handshake_build(hotkey=server, peer_hotkey=dialer.ss58, path=PATH, tls_fingerprint=FP_A)
    assert reply.signed_fields()["tls_fingerprint"] == FP_A
    swapped = reply.model_copy(update={"tls_fingerprint": FP_B})  # a relay rewriting it
    with pytest.raises(ProtocolError, match="bad signature"):
        await handshake_verify(
            message=swapped,
            own_hotkey=dialer.ss58,
            path=PATH,
            nonces=nonces,
            max_age_s=MAX_AGE,
            channel_fingerprint=FP_B,
            dialer=True,
        )


def test_a_plain_handshake_is_what_it_was_before_the_field(dialer, server):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH)
    assert "tls_fingerprint" not in hello.signed_fields()
    assert "tls_fingerprint" not in json.loads(encode(hello))  # a node without TLS support reads it
    over_tls = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH, tls_fingerprint=FP_A)
    assert json.loads(encode(over_tls))["tls_fingerprint"] == FP_A


@pytest.mark.parametrize(
    ("signed", "dialer_side", "reason"),
    [
        (FP_A, True, None),
        (FP_A, False, None),
        (FP_B, True, TlsRefusalReason.FINGERPRINT_MISMATCH),
        (FP_B, False, TlsRefusalReason.FINGERPRINT_MISMATCH),
        (None, True, TlsRefusalReason.FINGERPRINT_MISSING),
        (None, False, TlsRefusalReason.PLAIN_REFUSED),
    ],
)
async def test_the_signed_fingerprint_must_be_the_channels(signed, dialer_side, reason, dialer, server, nonces):
    message = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH, tls_fingerprint=signed)
    kwargs = {"own_hotkey": server.ss58, "path": PATH, "nonces": nonces, "max_age_s": MAX_AGE}
    if reason is None:
        await handshake_verify(message=message, channel_fingerprint=FP_A, dialer=dialer_side, **kwargs)
        return
    with pytest.raises(TlsRefusal) as info:
        await handshake_verify(message=message, channel_fingerprint=FP_A, dialer=dialer_side, **kwargs)
    assert (info.value.reason, info.value.code) == (reason, ErrorCode.UNAUTHENTICATED)
    # What the refused peer is told parses back into the same typed refusal.
    parsed = tls_refusal_from_error(info.value.as_message())
    assert parsed is not None
    assert parsed.reason == reason


async def test_a_refused_tls_handshake_does_not_burn_the_nonce(dialer, server, nonces):
    hello = handshake_build(hotkey=dialer, peer_hotkey=server.ss58, path=PATH, tls_fingerprint=FP_B)
    kwargs = {"message": hello, "own_hotkey": server.ss58, "path": PATH, "nonces": nonces, "max_age_s": MAX_AGE}
    with pytest.raises(TlsRefusal):
        await handshake_verify(channel_fingerprint=FP_A, **kwargs)
    assert await nonces.remember(f"{hello.hotkey}:{hello.nonce}", ttl_s=MAX_AGE)


@pytest.mark.parametrize(
    "message",
    [
        ErrorMessage(code=ErrorCode.UNAUTHORIZED, detail="tls plain_refused: x"),  # not an auth error
        ErrorMessage(code=ErrorCode.UNAUTHENTICATED, detail="handshake refused: bad signature"),
        ErrorMessage(code=ErrorCode.UNAUTHENTICATED, detail="tls made_up_reason: x"),
    ],
)
def test_other_errors_are_not_read_as_tls_refusals(message):
    assert tls_refusal_from_error(message) is None


@pytest.mark.parametrize(
    ("address", "tls_peers", "url"),
    [
        ("127.0.0.1:8001", False, "ws://127.0.0.1:8001/v1/miner/"),
        ("127.0.0.1:8001", True, "wss://127.0.0.1:8001/v1/miner/"),
        ("https://miner.example:443/", False, "wss://miner.example:443/v1/miner/"),
        ("wss://miner.example", False, "wss://miner.example/v1/miner/"),
        ("http://10.0.0.2:8001", True, "ws://10.0.0.2:8001/v1/miner/"),  # the dialer refuses it under TLS_PEERS
    ],
)
def test_peer_urls(settings, address, tls_peers, url):
    settings.TLS_PEERS = tls_peers
    assert peer_ws_url(address, PATH) == url


def test_an_unknown_scheme_is_refused(settings):
    with pytest.raises(InvalidURI, match="unknown scheme 'ftp'"):
        peer_ws_url("ftp://miner:21", PATH)


def test_daphne_serves_tls_only_with_a_complete_configuration(settings, tmp_path):
    settings.TLS_CERT_PATH = settings.TLS_KEY_PATH = ""
    assert daphne_tls_args(host="127.0.0.1") == []
    cert, key = tmp_path / "a:b.crt", tmp_path / "a:b.key"
    self_signed_cert_write(cert_path=cert, key_path=key, common_name="n", hosts=[])
    settings.TLS_CERT_PATH, settings.TLS_KEY_PATH, settings.TLS_PORT = str(cert), str(key), 0
    with pytest.raises(TlsConfigError, match="together"):
        daphne_tls_args(host="127.0.0.1")
    settings.TLS_PORT = 8443
    escaped = str(tmp_path).replace(":", "\\:")
    assert daphne_tls_args(host="::1") == [
        "-e",
        f"ssl:port=8443:interface=\\:\\:1:privateKey={escaped}/a\\:b.key:certKey={escaped}/a\\:b.crt",
    ]
    key.unlink()
    with pytest.raises(TlsConfigError, match="no such file"):
        daphne_tls_args(host="127.0.0.1")

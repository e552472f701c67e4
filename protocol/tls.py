"""TLS between nodes, with each certificate bound to its node's hotkey (docs/tls.md).

Certificates are self-signed: no authority vouches for them, their owner's hotkey does. A server
signs the SHA-256 fingerprint of its certificate in its handshake reply; a dialer signs, in its
hello, the fingerprint of the certificate it was actually shown. Each side compares the signed
fingerprint with the certificate on its own end of the channel, so a man in the middle, who has
to present a certificate of his own to sit there, is refused by both ends."""

import datetime
import enum
import hashlib
import ipaddress
import os
import ssl
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from websockets.exceptions import InvalidURI

from protocol.messages.common import ErrorCode, ErrorMessage
from protocol.wire import ProtocolError

CERT_VALID_DAYS = 3650  # pinned by fingerprint, so expiry protects nothing; rotate by replacing the file
_SCHEMES = {"ws": "ws", "http": "ws", "wss": "wss", "https": "wss"}


class TlsRefusalReason(enum.StrEnum):
    PLAIN_REFUSED = "plain_refused"  # TLS is required and this connection is (or would be) plain
    FINGERPRINT_MISSING = "fingerprint_missing"  # the peer signed no certificate fingerprint
    FINGERPRINT_MISMATCH = "fingerprint_mismatch"  # it signed another certificate than this channel's


class TlsRefusal(ProtocolError):
    """A handshake refused for its TLS binding; travels as UNAUTHENTICATED with a parseable detail."""

    def __init__(self, reason: TlsRefusalReason, detail: str) -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, f"tls {reason}: {detail}")
        self.reason = reason


class TlsConfigError(Exception):
    """The node's certificate settings are incomplete or point at unreadable files."""


def tls_refusal_from_error(message: ErrorMessage) -> TlsRefusal | None:
    """The typed refusal a peer sent back as an ErrorMessage, if it was one."""
    prefix, _, rest = message.detail.partition(": ")
    kind, _, reason = prefix.partition(" ")
    if message.code != ErrorCode.UNAUTHENTICATED or kind != "tls" or reason not in set(TlsRefusalReason):
        return None
    return TlsRefusal(TlsRefusalReason(reason), rest)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


@cache
def _file_fingerprint(path: str, mtime_ns: int) -> str:
    cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    return fingerprint(cert.public_bytes(serialization.Encoding.DER))


def cert_file_fingerprint(path: str | Path) -> str:
    """The fingerprint of the PEM certificate at `path` (read again only when the file changes)."""
    try:
        return _file_fingerprint(str(path), os.stat(path).st_mtime_ns)
    except (OSError, ValueError) as exc:
        raise TlsConfigError(f"TLS certificate {path}: {exc}") from exc


def node_tls_fingerprint() -> str | None:
    """This node's certificate fingerprint, or None when it has no certificate configured."""
    return cert_file_fingerprint(settings.TLS_CERT_PATH) if settings.TLS_CERT_PATH else None


def node_tls_required() -> bool:
    """Whether this node's consumers refuse a websocket that is not bound to its certificate."""
    return bool(settings.TLS_CERT_PATH) and bool(settings.TLS_REQUIRED)


def tls_binding_check(*, signed: str | None, seen: str, dialer: bool) -> None:
    """Raises TlsRefusal unless the fingerprint the peer signed is `seen`, the certificate on our
    end of this channel. `dialer`: we dialed (so the peer is the server that should sign its own)."""
    if signed is None:
        if dialer:
            raise TlsRefusal(TlsRefusalReason.FINGERPRINT_MISSING, "the server signed no certificate fingerprint")
        raise TlsRefusal(TlsRefusalReason.PLAIN_REFUSED, "this node accepts websockets only over TLS")
    if signed != seen:
        raise TlsRefusal(
            TlsRefusalReason.FINGERPRINT_MISMATCH,
            f"the peer signed certificate {signed[:16]}…, this channel's is {seen[:16]}… (a man in the middle?)",
        )


def client_ssl_context() -> ssl.SSLContext:
    """Encrypts without trusting any authority: the peer's certificate is checked by pinning its
    signed fingerprint after the handshake (tls_binding_check), not by a CA chain or host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def presented_fingerprint(transport: Any) -> str:
    """The fingerprint of the certificate the server presented on this TLS transport."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise TlsRefusal(TlsRefusalReason.FINGERPRINT_MISSING, "the server presented no certificate")
    return fingerprint(der)


def peer_ws_url(address: str, path: str) -> str:
    """The websocket URL of `path` at a peer's address: `host:port` (TLS if TLS_PEERS) or a URL
    whose scheme decides (ws/http plain, wss/https TLS). Any other scheme is an InvalidURI, as an
    unparseable URL is: the dialing side already treats it as the peer being unreachable."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = ("wss" if settings.TLS_PEERS else "ws"), address
    if scheme not in _SCHEMES:
        raise InvalidURI(address, f"unknown scheme {scheme!r}")
    return f"{_SCHEMES[scheme]}://{rest.rstrip('/')}/{path.lstrip('/')}"


def daphne_tls_args(*, host: str) -> list[str]:
    """Daphne's extra endpoint for this node's TLS port, or [] when it serves no TLS."""
    cert, key, port = settings.TLS_CERT_PATH, settings.TLS_KEY_PATH, settings.TLS_PORT
    if not cert and not key:
        return []
    if not (cert and key and port):
        raise TlsConfigError("TLS needs TLS_CERT_PATH, TLS_KEY_PATH and TLS_PORT together")
    cert_file_fingerprint(cert)  # fail at start-up, not at the first connection
    if not Path(key).is_file():
        raise TlsConfigError(f"TLS key {key}: no such file")

    def escape(value: str) -> str:  # twisted endpoint strings split on ':'
        return value.replace("\\", "\\\\").replace(":", "\\:")

    return ["-e", f"ssl:port={port}:interface={escape(host)}:privateKey={escape(key)}:certKey={escape(cert)}"]


def self_signed_cert_write(*, cert_path: Path, key_path: Path, common_name: str, hosts: list[str]) -> str:
    """A fresh P-256 key (mode 0600) and a self-signed certificate for `hosts`; its fingerprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_VALID_DAYS))
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return fingerprint(cert.public_bytes(serialization.Encoding.DER))

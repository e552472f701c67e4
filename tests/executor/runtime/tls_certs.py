"""A throwaway certificate authority and a server certificate for one name, for the HTTPS tests."""

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext  # serves a certificate for the name
    client: ssl.SSLContext  # trusts only the throwaway authority
    sni_seen: list[str | None]


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey, *, ca: bool
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def tls_for(name: str, directory: Path) -> Tls:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "meshwork test CA",
        ca_key,
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meshwork test CA")]),
        ca_key,
        ca=True,
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(name, key, ca.subject, ca_key, ca=False)
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    sni_seen: list[str | None] = []
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)

    def record_sni(_socket: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext) -> None:
        sni_seen.append(server_name)

    server.sni_callback = record_sni
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return Tls(server=server, client=client, sni_seen=sni_seen)

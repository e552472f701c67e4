"""protocol/ssh_keys.py: a rental's key is one valid OpenSSH public key line, normalised."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from protocol.ssh_keys import ssh_public_key_normalised


def openssh(public_key: object) -> str:
    return public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ed25519.Ed25519PrivateKey.generate().public_key(),
        lambda: ec.generate_private_key(ec.SECP256R1()).public_key(),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
    ],
)
def test_valid_keys_come_back_without_their_comment(make) -> None:
    key = openssh(make())
    assert ssh_public_key_normalised(f"  {key} me@laptop extra words\n") == key


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "TYPE BASE64"),
        ("ssh-ed25519", "TYPE BASE64"),
        ("ssh-ed25519 !!!notbase64", "not a valid ssh-ed25519"),
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==", "not a valid ssh-ed25519"),  # an RSA blob under another type
        ("ssh-dss AAAAB3NzaC1kc3M=", "is not one of"),
        ('from="10.0.0.1" ssh-ed25519 AAAA', "is not one of"),
        ("ssh-ed25519 AAAA\nssh-ed25519 AAAA", "one line"),
        ("ssh-ed25519 AAAA\x00", "one line"),
        ("ssh-ed25519 " + "A" * 9000, "at most 8192"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ssh_public_key_normalised(text)


def test_a_short_rsa_key_is_refused() -> None:
    weak = openssh(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
    with pytest.raises(ValueError, match="at least 2048 bits"):
        ssh_public_key_normalised(weak)

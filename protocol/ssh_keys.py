"""A user's SSH public key for a rental, checked with `cryptography` before any node stores or
forwards it: one line `TYPE BASE64 [COMMENT]`, a key type sshd accepts, RSA of 2048 bits or more.
The normalised form (`TYPE BASE64`, comment dropped) is what travels: nothing a user typed beyond
the key itself reaches the machine's authorized_keys."""

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

MAX_KEY_CHARS = 8192
KEY_TYPES = frozenset({"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"})
MIN_RSA_BITS = 2048


def ssh_public_key_normalised(text: str) -> str:
    """`TYPE BASE64` of a valid key, or ValueError saying what is wrong with it."""
    if len(text) > MAX_KEY_CHARS:
        raise ValueError(f"an SSH public key is at most {MAX_KEY_CHARS} characters")
    text = text.strip()  # a .pub file's trailing newline
    if any(c in text for c in "\r\n\x00"):
        raise ValueError("an SSH public key is one line")
    parts = text.split()
    if len(parts) < 2:
        raise ValueError("expected 'TYPE BASE64 [COMMENT]', e.g. the contents of ~/.ssh/id_ed25519.pub")
    kind, body = parts[0], parts[1]
    if kind not in KEY_TYPES:
        raise ValueError(f"key type {kind[:40]!r} is not one of {', '.join(sorted(KEY_TYPES))}")
    try:
        key = load_ssh_public_key(f"{kind} {body}".encode())
    except (ValueError, TypeError) as exc:  # not base64, or not a key of that type
        raise ValueError(f"not a valid {kind} public key") from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ValueError(f"an RSA key must have at least {MIN_RSA_BITS} bits (this one has {key.key_size})")
    return f"{kind} {body}"

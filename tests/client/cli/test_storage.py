"""`meshwork put/get/objects/rm` (docs/storage.md, docs/cli.md) against a scripted facilitator:
what goes over the wire, client-side encryption and its keys, and one-line errors."""

import hashlib
from pathlib import Path
from typing import Any

import pytest

from client.sdk.encryption import MAGIC
from tests.client.cli.conftest import one_error_line
from tests.client.conftest import Reply

OBJECT_ID = "5b1c3a52-8d44-4a7e-9c8a-3d0c5e1b2a11"


def object_body(data: bytes, **overrides: Any) -> dict[str, Any]:
    body = {
        "id": OBJECT_ID,
        "name": "notes.txt",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_at": "2026-12-02T18:00:00Z",
        "status": "stored",
        "health": {"shares": 3, "needed": 2, "placed": 3, "verified_at": None},
    }
    return body | overrides


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHWORK_KEYS_DIR", str(tmp_path / "keys"))
    return tmp_path / "keys"


def test_put_sends_the_bytes_and_prints_the_id(meshwork: Any, scripted: Any, tmp_path: Path, keys: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(b"hello storage")
    server = scripted([Reply(201, object_body(b"hello storage"))])
    result = meshwork("put", str(source), url=server.url, token="t")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[0] == OBJECT_ID
    assert server.seen[0].method == "POST"
    assert server.seen[0].path == "/api/v1/objects/?name=notes.txt"
    assert server.seen[0].body == b"hello storage"


def test_put_encrypt_keeps_the_key_here_and_get_decrypts(
    meshwork: Any, scripted: Any, tmp_path: Path, keys: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(b"only I can read this")
    server = scripted([Reply(201, object_body(b"x" * 50))])
    assert meshwork("put", "--encrypt", str(source), url=server.url, token="t").exit_code == 0
    sent = server.seen[0].body
    assert sent.startswith(MAGIC)
    assert b"only I can read" not in sent
    assert (keys / f"{OBJECT_ID}.key").stat().st_mode & 0o777 == 0o600

    back = tmp_path / "back.txt"
    server = scripted([Reply(200, object_body(sent)), Reply(200, sent, {"Content-Type": "application/octet-stream"})])
    result = meshwork("get", OBJECT_ID, "-o", str(back), url=server.url, token="t")
    assert result.exit_code == 0, result.stderr
    assert back.read_bytes() == b"only I can read this"


def test_get_of_an_encrypted_object_without_its_key_is_one_error_line(
    meshwork: Any, scripted: Any, tmp_path: Path, keys: Path
) -> None:
    blob = MAGIC + b"\0" * 40
    server = scripted([Reply(200, object_body(blob)), Reply(200, blob, {"Content-Type": "application/octet-stream"})])
    result = meshwork("get", OBJECT_ID, "-o", str(tmp_path / "x"), url=server.url, token="t")
    assert result.exit_code != 0
    assert "its key is not at" in one_error_line(result.stderr)
    wrong = tmp_path / "wrong.key"
    wrong.write_text(b"\1".hex() * 32)
    server = scripted([Reply(200, object_body(blob)), Reply(200, blob, {"Content-Type": "application/octet-stream"})])
    result = meshwork("get", OBJECT_ID, "--key-file", str(wrong), "-o", str(tmp_path / "x"), url=server.url, token="t")
    assert "does not open" in one_error_line(result.stderr)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (507, {"detail": "0 of 3 shares found room", "reason": "insufficient_space"}, "0 of 3 shares"),
        (503, {"detail": "no validator is online"}, "no validator"),
        (413, {"body": ["at most 10 bytes"]}, "at most 10 bytes"),
        (402, {"credits": ["needs 1 credits"], "needed": "1", "available": "0"}, "credits"),
    ],
)
def test_refused_uploads_are_one_error_line(
    meshwork: Any, scripted: Any, tmp_path: Path, keys: Path, status: int, body: dict[str, Any], expected: str
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"abc")
    server = scripted([Reply(status, body)])
    result = meshwork("put", str(source), url=server.url, token="t")
    assert result.exit_code != 0
    assert expected in one_error_line(result.stderr)
    assert len(server.seen) == 1  # an upload is never sent twice


def test_objects_lists_and_rm_deletes(meshwork: Any, scripted: Any) -> None:
    page = {"count": 1, "next": None, "previous": None, "results": [object_body(b"abc")]}
    server = scripted([Reply(200, page)])
    result = meshwork("objects", url=server.url, token="t")
    assert result.exit_code == 0
    assert OBJECT_ID in result.stdout
    assert "3/3 (needs 2)" in result.stdout
    server = scripted([Reply(204, b"")])
    result = meshwork("rm", OBJECT_ID, url=server.url, token="t")
    assert result.exit_code == 0
    assert server.seen[0].method == "DELETE"


def test_a_missing_file_and_a_bad_id_are_one_error_line(meshwork: Any, tmp_path: Path) -> None:
    assert "cannot read" in one_error_line(meshwork("put", str(tmp_path / "nope"), url="http://x", token="t").stderr)
    result = meshwork("get", "not-a-uuid", url="http://x", token="t")
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr

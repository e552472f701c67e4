"""The miner's validator-facing storage API (docs/storage.md): signed requests from admitted
validators only, streamed uploads checked against their root, owner-only reads, audits that
verify, and errors that leave nothing on disk."""

import hashlib
import json
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from miner.models import ExecutorHost, StorageVolume, StoredShare
from miner.services.storage_space import storage_allocations_recompute
from protocol.keys import Hotkey, hotkey_create
from protocol.signed_http import signed_headers
from protocol.storage.audit import AuditAnswer, AuditChallenge, AuditFailure, audit_answer_check
from protocol.storage.proofs import share_leaves, share_root
from tests.miner.factories import KnownValidatorFactory

pytestmark = pytest.mark.django_db
CHUNK = 4096


@pytest.fixture
def volume(tmp_path: Path) -> StorageVolume:
    host = ExecutorHost.objects.create(name="local", docker_url="local")
    return StorageVolume.objects.create(host=host, directory=str(tmp_path / "shares"), capacity_bytes=1_000_000)


@pytest.fixture
def validator(volume: StorageVolume) -> Hotkey:
    hotkey = hotkey_create()[0]
    KnownValidatorFactory.create(hotkey=hotkey.ss58, stake=10_000)
    storage_allocations_recompute()
    return hotkey


def call(
    client: Client, node_key: Hotkey, signer: Hotkey, method: str, path: str, body: bytes = b"", **extra: Any
) -> Any:
    headers = signed_headers(
        hotkey=signer, peer_hotkey=node_key.ss58, method=method, path=path, body_sha256=hashlib.sha256(body).hexdigest()
    )
    headers.update(extra.pop("headers", {}))
    return client.generic(method, path, data=body, content_type="application/octet-stream", headers=headers)


def put_path(share_id: uuid.UUID, data: bytes, *, root: str | None = None) -> str:
    root = root or share_root(share_leaves(data, chunk_bytes=CHUNK)).hex()
    return f"/api/v1/storage/shares/{share_id}/?root={root}&chunk_bytes={CHUNK}"


def files(volume: StorageVolume) -> list[Path]:
    return [p for p in Path(volume.directory).rglob("*") if p.is_file()]


def test_a_share_is_stored_read_back_and_deleted(
    client: Client, node_key: Hotkey, validator: Hotkey, volume: StorageVolume
) -> None:
    share_id, data = uuid.uuid4(), os.urandom(3 * CHUNK + 5)
    stored = call(client, node_key, validator, "PUT", put_path(share_id, data), data)
    assert stored.status_code == 201, stored.content
    assert stored.json()["size"] == len(data)
    again = call(client, node_key, validator, "PUT", put_path(share_id, data), data)
    assert again.status_code == 200  # the same share again: idempotent

    got = call(client, node_key, validator, "GET", f"/api/v1/storage/shares/{share_id}/")
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == data
    space = call(client, node_key, validator, "GET", "/api/v1/storage/space/").json()
    assert space["used_by_you_bytes"] == len(data)
    assert space["quota_bytes"] == 1_000_000

    assert call(client, node_key, validator, "DELETE", f"/api/v1/storage/shares/{share_id}/").status_code == 204
    assert not StoredShare.objects.exists()
    assert not [p for p in files(volume) if ".incoming" not in str(p)]


def test_an_empty_share_is_stored_and_audited(client: Client, node_key: Hotkey, validator: Hotkey) -> None:
    share_id = uuid.uuid4()
    assert call(client, node_key, validator, "PUT", put_path(share_id, b""), b"").status_code == 201
    challenge = AuditChallenge(nonce=secrets.token_hex(32), count=4)
    body = challenge.model_dump_json().encode()
    answer = call(client, node_key, validator, "POST", f"/api/v1/storage/shares/{share_id}/audit/", body)
    assert answer.status_code == 200
    root = share_root(share_leaves(b"", chunk_bytes=CHUNK))
    check = audit_answer_check(
        AuditAnswer.model_validate(answer.json()), challenge=challenge, root=root, size=0, chunk_bytes=CHUNK
    )
    assert check is None


def test_an_audit_answer_verifies_and_a_corrupted_file_fails_it(
    client: Client, node_key: Hotkey, validator: Hotkey, volume: StorageVolume
) -> None:
    share_id, data = uuid.uuid4(), os.urandom(20 * CHUNK)
    call(client, node_key, validator, "PUT", put_path(share_id, data), data)
    root = share_root(share_leaves(data, chunk_bytes=CHUNK))
    challenge = AuditChallenge(nonce=secrets.token_hex(32), count=20)  # every chunk

    def audit() -> Any:
        return call(
            client,
            node_key,
            validator,
            "POST",
            f"/api/v1/storage/shares/{share_id}/audit/",
            challenge.model_dump_json().encode(),
        )

    answer = AuditAnswer.model_validate(audit().json())
    assert audit_answer_check(answer, challenge=challenge, root=root, size=len(data), chunk_bytes=CHUNK) is None

    path = next(p for p in files(volume) if p.name == str(share_id))
    raw = bytearray(path.read_bytes())
    raw[7 * CHUNK] ^= 1
    path.write_bytes(bytes(raw))
    challenge = AuditChallenge(nonce=secrets.token_hex(32), count=20)
    answer = AuditAnswer.model_validate(audit().json())
    failure = audit_answer_check(answer, challenge=challenge, root=root, size=len(data), chunk_bytes=CHUNK)
    assert failure is not None
    assert failure[0] == AuditFailure.BAD_PROOF

    path.unlink()
    assert audit().status_code == 404


def test_a_body_that_does_not_match_its_root_leaves_nothing(
    client: Client, node_key: Hotkey, validator: Hotkey, volume: StorageVolume
) -> None:
    data = os.urandom(2 * CHUNK)
    wrong = call(client, node_key, validator, "PUT", put_path(uuid.uuid4(), data, root="0" * 64), data)
    assert wrong.status_code == 400
    assert wrong.json()["reason"] == "root_mismatch"
    assert not StoredShare.objects.exists()
    assert not [p for p in files(volume) if p.is_file()]


def test_unsigned_replayed_misaddressed_and_stranger_requests_are_refused(
    client: Client, node_key: Hotkey, validator: Hotkey
) -> None:
    path = "/api/v1/storage/space/"
    assert client.get(path).json()["reason"] == "missing_signature"
    headers = signed_headers(hotkey=validator, peer_hotkey=node_key.ss58, method="GET", path=path)
    assert client.get(path, headers=headers).status_code == 200
    replay = client.get(path, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["reason"] == "replayed"
    other = hotkey_create()[0]
    elsewhere = signed_headers(hotkey=validator, peer_hotkey=other.ss58, method="GET", path=path)
    assert client.get(path, headers=elsewhere).json()["reason"] == "wrong_peer"
    stranger = call(client, node_key, other, "GET", path)
    assert stranger.status_code == 403
    data = b"x" * 10
    assert call(client, node_key, other, "PUT", put_path(uuid.uuid4(), data), data).status_code == 403


def test_another_validators_share_is_invisible_and_its_id_taken(
    client: Client, node_key: Hotkey, validator: Hotkey
) -> None:
    second = hotkey_create()[0]
    KnownValidatorFactory.create(hotkey=second.ss58, stake=10_000)
    storage_allocations_recompute()
    share_id, data = uuid.uuid4(), os.urandom(100)
    call(client, node_key, validator, "PUT", put_path(share_id, data), data)

    assert call(client, node_key, second, "GET", f"/api/v1/storage/shares/{share_id}/").status_code == 404
    other = os.urandom(100)
    assert call(client, node_key, second, "PUT", put_path(share_id, other), other).status_code == 409
    assert call(client, node_key, second, "DELETE", f"/api/v1/storage/shares/{share_id}/").status_code == 204
    assert StoredShare.objects.filter(share_id=share_id).exists()  # not its to delete


def test_over_capacity_is_507_and_over_the_size_cap_413(
    client: Client, node_key: Hotkey, validator: Hotkey, settings: Any
) -> None:
    data = os.urandom(CHUNK)
    settings.MINER_STORAGE_MAX_SHARE_BYTES = 1000
    assert call(client, node_key, validator, "PUT", put_path(uuid.uuid4(), data), data).status_code == 413
    settings.MINER_STORAGE_MAX_SHARE_BYTES = 10_000_000
    StorageVolume.objects.update(capacity_bytes=CHUNK - 1)
    storage_allocations_recompute()
    full = call(client, node_key, validator, "PUT", put_path(uuid.uuid4(), data), data)
    assert full.status_code == 507
    assert full.json()["reason"] == "no_space"


@pytest.mark.parametrize("query", ["root=zz&chunk_bytes=4096", f"root={'0' * 64}&chunk_bytes=7", f"root={'0' * 64}"])
def test_bad_parameters_are_400(client: Client, node_key: Hotkey, validator: Hotkey, query: str) -> None:
    response = call(client, node_key, validator, "PUT", f"/api/v1/storage/shares/{uuid.uuid4()}/?{query}", b"x")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_a_malformed_challenge_is_400(client: Client, node_key: Hotkey, validator: Hotkey) -> None:
    share_id, data = uuid.uuid4(), b"abc"
    call(client, node_key, validator, "PUT", put_path(share_id, data), data)
    body = json.dumps({"nonce": "nope", "count": 1000}).encode()
    assert (
        call(client, node_key, validator, "POST", f"/api/v1/storage/shares/{share_id}/audit/", body).status_code == 400
    )

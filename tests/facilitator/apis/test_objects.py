"""Storage REST on the facilitator (docs/storage.md) with a fake validator on the real channel
layer: it reads the upload through the signed staging endpoint and answers like a validator."""

import asyncio
import hashlib
import json
import os
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient, Client

from facilitator.models import ObjectRetrieval, StoredObject, ValidatorSession
from facilitator.services.objects import object_apply_failed, object_apply_stored, staging_path
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.storage import ObjectFailed, ObjectHealth, StorageFailureReason
from protocol.signed_http import signed_headers
from tests.facilitator.factories import TokenFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]
HEALTH = ObjectHealth(shares=3, needed=2, placed=3)


@pytest.fixture
def owner_key(funded_user: Any) -> str:
    return str(TokenFactory.create(user=funded_user).key)


@pytest.fixture
def validator() -> Hotkey:
    return hotkey_create()[0]


@pytest.fixture
async def session(validator: Hotkey) -> ValidatorSession:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    return await ValidatorSession.objects.acreate(hotkey=validator.ss58, channel_name=channel)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


async def upload(key: str, data: bytes, name: str = "a.bin") -> Any:
    return await AsyncClient().post(
        f"/api/v1/objects/?name={name}", data=data, content_type="application/octet-stream", headers=auth(key)
    )


def signed_get(node_key: Hotkey, validator: Hotkey, path: str) -> Any:
    return Client().get(
        path, headers=signed_headers(hotkey=validator, peer_hotkey=node_key.ss58, method="GET", path=path)
    )


async def fake_validator(session: ValidatorSession, node_key: Hotkey, validator: Hotkey, *, answer: str) -> bytes:
    layer = get_channel_layer()
    assert layer is not None
    event = await asyncio.wait_for(layer.receive(session.channel_name), 10)
    request = json.loads(event["payload"])
    assert request["type"] == "object.store"
    staged = await sync_to_async(signed_get)(node_key, validator, request["path"])
    assert staged.status_code == 200
    body = b"".join(staged.streaming_content)
    assert hashlib.sha256(body).hexdigest() == request["sha256"]
    object_id = uuid.UUID(request["object_id"])
    if answer == "stored":
        await sync_to_async(object_apply_stored)(validator_hotkey=validator.ss58, object_id=object_id, health=HEALTH)
    elif answer == "no_space":
        failed = ObjectFailed(
            object_id=object_id, operation="store", reason=StorageFailureReason.INSUFFICIENT_SPACE, detail="full"
        )
        await sync_to_async(object_apply_failed)(validator_hotkey=validator.ss58, failed=failed)
    return body


async def test_an_upload_is_staged_handed_over_and_answered_201(
    owner_key: str, session: ValidatorSession, node_key: Hotkey, validator: Hotkey
) -> None:
    data = os.urandom(200_000)
    response, seen = await asyncio.gather(
        upload(owner_key, data), fake_validator(session, node_key, validator, answer="stored")
    )
    assert seen == data
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["health"] == {"shares": 3, "needed": 2, "placed": 3, "verified_at": None}
    assert not staging_path(uuid.UUID(body["id"])).exists()  # the plaintext is gone once placed
    listed = await AsyncClient().get("/api/v1/objects/", headers=auth(owner_key))
    assert [o["id"] for o in listed.json()["results"]] == [body["id"]]


async def test_no_space_in_the_network_is_507_and_nothing_stays_staged(
    owner_key: str, session: ValidatorSession, node_key: Hotkey, validator: Hotkey
) -> None:
    response, _ = await asyncio.gather(
        upload(owner_key, b"abc"), fake_validator(session, node_key, validator, answer="no_space")
    )
    assert response.status_code == 507
    assert response.json()["reason"] == "insufficient_space"
    obj = await StoredObject.objects.aget()
    assert obj.status == "failed"
    assert not staging_path(obj.id).exists()


async def test_a_silent_validator_is_504_and_its_late_answer_is_undone(
    owner_key: str, session: ValidatorSession, node_key: Hotkey, validator: Hotkey, settings: Any
) -> None:
    settings.STORAGE_REQUEST_TIMEOUT_S = 0.5
    response = await upload(owner_key, b"abc")
    assert response.status_code == 504
    obj = await StoredObject.objects.aget()
    layer = get_channel_layer()
    assert layer is not None
    await layer.receive(session.channel_name)  # the store request
    await sync_to_async(object_apply_stored)(validator_hotkey=validator.ss58, object_id=obj.id, health=HEALTH)
    undo = json.loads((await asyncio.wait_for(layer.receive(session.channel_name), 5))["payload"])
    assert undo == {"type": "object.delete", "object_id": str(obj.id)}
    assert (await StoredObject.objects.aget()).status == "failed"


async def test_no_validator_online_is_503(owner_key: str) -> None:
    response = await upload(owner_key, b"abc")
    assert response.status_code == 503
    assert not await StoredObject.objects.aexists()


@pytest.mark.parametrize(
    ("name", "reason"), [("", "required"), ("a/b", "'/'"), ("x" * 256, "255"), ("a%00b", "control")]
)
async def test_bad_names_are_400_naming_the_field(owner_key: str, name: str, reason: str) -> None:
    response = await upload(owner_key, b"abc", name=name)
    assert response.status_code == 400
    assert reason in response.json()["name"][0]


async def test_unauthenticated_oversized_and_unfunded_uploads_are_refused(
    owner_key: str, user: Any, settings: Any
) -> None:
    assert (
        await AsyncClient().post("/api/v1/objects/?name=a", data=b"x", content_type="application/octet-stream")
    ).status_code == 401
    settings.STORAGE_MAX_OBJECT_BYTES = 10
    assert (await upload(owner_key, b"x" * 11)).status_code == 413
    poor = await sync_to_async(lambda: TokenFactory.create(user=user).key)()
    response = await upload(poor, b"x")
    assert response.status_code == 402
    assert "credits" in response.json()


async def test_the_staging_endpoint_serves_only_the_objects_validator(
    owner_key: str, session: ValidatorSession, node_key: Hotkey, validator: Hotkey, settings: Any
) -> None:
    settings.STORAGE_REQUEST_TIMEOUT_S = 2
    task = asyncio.create_task(upload(owner_key, b"secret"))
    obj = None
    for _ in range(100):
        obj = await StoredObject.objects.afirst()
        if obj is not None:
            break
        await asyncio.sleep(0.02)
    assert obj is not None
    path = f"/api/v1/validator/objects/{obj.id}/staged/"
    assert (await sync_to_async(Client().get)(path)).status_code == 401
    stranger = await sync_to_async(signed_get)(node_key, hotkey_create()[0], path)
    assert stranger.status_code == 404
    await task


async def test_a_download_is_delivered_by_the_validator_checked_and_streamed(
    owner_key: str, funded_user: Any, session: ValidatorSession, node_key: Hotkey, validator: Hotkey, settings: Any
) -> None:
    settings.STORAGE_REQUEST_TIMEOUT_S = 3
    data = os.urandom(50_000)
    obj = await StoredObject.objects.acreate(
        user=funded_user,
        name="x.bin",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        validator_hotkey=validator.ss58,
        status="stored",
    )
    layer = get_channel_layer()
    assert layer is not None

    async def deliver(body: bytes) -> int:
        request = json.loads((await asyncio.wait_for(layer.receive(session.channel_name), 10))["payload"])
        assert request["type"] == "object.fetch"

        def put(content: bytes) -> int:
            headers = signed_headers(
                hotkey=validator,
                peer_hotkey=node_key.ss58,
                method="PUT",
                path=request["path"],
                body_sha256=hashlib.sha256(data).hexdigest(),
            )
            return (
                Client()
                .put(request["path"], data=content, content_type="application/octet-stream", headers=headers)
                .status_code
            )

        return await sync_to_async(put)(body)

    response, status = await asyncio.gather(
        AsyncClient().get(f"/api/v1/objects/{obj.id}/content/", headers=auth(owner_key)), deliver(data)
    )
    assert status == 204
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data  # type: ignore[attr-defined]

    tampered = bytearray(data)
    tampered[0] ^= 1
    response, status = await asyncio.gather(
        AsyncClient().get(f"/api/v1/objects/{obj.id}/content/", headers=auth(owner_key)), deliver(bytes(tampered))
    )
    assert status == 400  # the delivery's sha256 is not the object's: the user never sees it
    assert response.status_code == 504
    retrieval = await ObjectRetrieval.objects.order_by("-created_at").afirst()
    assert retrieval is not None
    assert retrieval.status == "failed"


async def test_another_users_object_is_404_and_delete_is_204(owner_key: str, funded_user: Any, user: Any) -> None:
    mine = await StoredObject.objects.acreate(user=funded_user, name="m", size=1, sha256="0" * 64, status="stored")
    theirs = await StoredObject.objects.acreate(user=user, name="t", size=1, sha256="0" * 64, status="stored")
    assert (await AsyncClient().get(f"/api/v1/objects/{theirs.id}/", headers=auth(owner_key))).status_code == 404
    assert (
        await AsyncClient().get(f"/api/v1/objects/{theirs.id}/content/", headers=auth(owner_key))
    ).status_code == 404
    assert (await AsyncClient().delete(f"/api/v1/objects/{theirs.id}/", headers=auth(owner_key))).status_code == 404
    assert (await AsyncClient().delete(f"/api/v1/objects/{mine.id}/", headers=auth(owner_key))).status_code == 204
    assert (await AsyncClient().get(f"/api/v1/objects/{mine.id}/", headers=auth(owner_key))).status_code == 404
    assert (await StoredObject.objects.aget(id=mine.id)).status == "deleting"

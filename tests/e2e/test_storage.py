"""Storage through the whole network (docs/storage.md): a user's bytes go REST → facilitator →
validator (encrypted, 2-of-3 coded, sealed) → three miners' disks, and come back byte-identical;
a share tampered with on a miner's disk is caught and read around; the CLI encrypts on the client."""

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.localnet.network import LocalNetwork

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
MESHWORK = Path(sys.executable).parent / "meshwork"


def put(api: httpx.Client, data: bytes, name: str = "blob.bin") -> dict[str, object]:
    response = api.post(
        "/api/v1/objects/",
        params={"name": name},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=180,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def content(api: httpx.Client, object_id: object) -> bytes:
    response = api.get(f"/api/v1/objects/{object_id}/content/", timeout=180)
    assert response.status_code == 200, response.text
    return response.content


def share_files(network: LocalNetwork) -> list[Path]:
    """Every share file on the miners' disks (no temporary or sidecar files)."""
    root = network.config.directory / "shares"
    return [p for p in root.rglob("*") if p.is_file() and "." not in p.name]


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 * 1024 + 3])
def test_round_trip_is_byte_identical(api: httpx.Client, size: int) -> None:
    data = os.urandom(size)
    stored = put(api, data)

    assert stored["size"] == size
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    health = dict(stored["health"])  # type: ignore[call-overload]
    assert health.pop("verified_at") is not None  # each share's root was checked as it was placed
    assert health == {"shares": 3, "needed": 2, "placed": 3}
    assert content(api, stored["id"]) == data
    listed = api.get("/api/v1/objects/").json()["results"]
    assert stored["id"] in {o["id"] for o in listed}


def test_miners_hold_only_sealed_ciphertext(api: httpx.Client, network: LocalNetwork) -> None:
    marker = b"meshwork-plaintext-marker-" * 4096
    stored = put(api, marker)
    shares = [p.read_bytes() for p in share_files(network)]

    assert len(shares) >= 3
    assert not any(b"meshwork-plaintext-marker" in s for s in shares)
    assert content(api, stored["id"]) == marker


def test_a_tampered_share_is_caught_and_the_object_still_reads(api: httpx.Client, network: LocalNetwork) -> None:
    before = set(share_files(network))
    data = os.urandom(300_000)
    stored = put(api, data)
    new = sorted(set(share_files(network)) - before)
    assert len(new) == 3, new
    for victim in new[:1]:  # one of three: 2-of-3 still reads
        raw = bytearray(victim.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        victim.write_bytes(bytes(raw))

    assert content(api, stored["id"]) == data


def test_delete_removes_the_shares(api: httpx.Client, network: LocalNetwork) -> None:
    before = set(share_files(network))
    stored = put(api, os.urandom(10_000))
    assert len(set(share_files(network)) - before) == 3

    assert api.delete(f"/api/v1/objects/{stored['id']}/").status_code == 204
    assert api.get(f"/api/v1/objects/{stored['id']}/").status_code == 404
    deadline = time.monotonic() + 30
    while set(share_files(network)) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(share_files(network)) - before


def test_bad_uploads_get_clear_errors(api: httpx.Client) -> None:
    assert api.post("/api/v1/objects/", content=b"x").status_code == 400  # no name
    no_token = httpx.post(str(api.base_url) + "/api/v1/objects/?name=a", content=b"x")
    assert no_token.status_code == 401
    assert api.get("/api/v1/objects/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_cli_put_encrypts_on_the_client_and_get_decrypts(network: LocalNetwork, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"MESHWORK_URL", "MESHWORK_TOKEN"}}
    env["LOCALNET_DIR"] = str(network.write_credentials().parent)
    env["MESHWORK_KEYS_DIR"] = str(tmp_path / "keys")
    source = tmp_path / "secret.txt"
    source.write_bytes(b"only the client sees this\n" * 100)

    put_run = subprocess.run([str(MESHWORK), "put", "--encrypt", str(source)], capture_output=True, text=True, env=env)
    assert put_run.returncode == 0, put_run.stderr
    object_id = put_run.stdout.split()[0]
    assert not any(b"only the client" in p.read_bytes() for p in share_files(network))
    out = tmp_path / "back.txt"
    get_run = subprocess.run([str(MESHWORK), "get", object_id, "-o", str(out)], capture_output=True, text=True, env=env)
    assert get_run.returncode == 0, get_run.stderr
    assert out.read_bytes() == source.read_bytes()

"""`meshwork rent`, `rentals`, `rent-end` (docs/rentals.md) against a scripted facilitator: what goes
over the wire, waiting for the machine, and one-line errors."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.client.cli.conftest import one_error_line
from tests.client.conftest import Reply

RENTAL_ID = "8a0b6a7e-3c1d-4f7e-9b1a-2e4c6d8f0a12"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA4KzSHkOU1S6vrrHocGet2bxc46mUFkEGExDVf7veBc"


def rental_body(status: str = "pending", **overrides: Any) -> dict[str, Any]:
    body = {
        "uuid": RENTAL_ID, "status": status, "executor_class": "cpu.small", "duration_s": 7200, "ssh": None,
        "ssh_public_key": KEY, "miner_hotkey": "", "created_at": "2026-12-03T06:00:00Z", "started_at": None,
        "expires_at": None, "finished_at": None, "cost": None, "charged": "0", "failure": None,
        "status_history": [{"status": "pending", "at": "2026-12-03T06:00:00Z", "detail": "submitted"}],
    }  # fmt: skip
    return body | overrides


ACTIVE = rental_body(
    "active",
    ssh={"host": "miner.example", "port": 40022, "user": "meshwork"},
    started_at="2026-12-03T06:00:05Z",
    expires_at="2026-12-03T08:00:05Z",
)


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("client.cli.rentals.POLL_S", 0.0)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "id_ed25519.pub"
    path.write_text(KEY + " me@laptop\n")
    return path


def test_rent_sends_the_key_and_duration_and_prints_the_ssh_command(
    meshwork: Any, scripted: Any, key_file: Path
) -> None:
    server = scripted([Reply(201, rental_body()), Reply(200, rental_body()), Reply(200, ACTIVE)])
    result = meshwork(
        "rent", "--class", "cpu.small", "--duration", "2h", "--key", str(key_file), url=server.url, token="t"
    )

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "ssh -p 40022 meshwork@miner.example"
    assert "until 2026-12-03T08:00:05" in result.stderr
    sent = json.loads(server.seen[0].body)
    assert sent == {"executor_class": "cpu.small", "duration_s": 7200, "ssh_public_key": KEY + " me@laptop"}
    assert [s.method for s in server.seen] == ["POST", "GET", "GET"]


def test_rent_says_why_a_rental_failed(meshwork: Any, scripted: Any, key_file: Path) -> None:
    failed = rental_body("failed", failure={"kind": "infrastructure", "reason": "no_capacity", "detail": "no miner"})
    server = scripted([Reply(201, rental_body()), Reply(200, failed)])
    result = meshwork("rent", "--class", "cpu.small", "--key", str(key_file), url=server.url, token="t")
    assert result.exit_code == 1
    progress, error = result.stderr.splitlines()  # the uuid as soon as it is known, then the one error line
    assert progress == f"{RENTAL_ID} pending"
    assert error == f"meshwork: error: rental {RENTAL_ID} failed (no_capacity: no miner)"


def test_a_refused_rental_is_one_line_naming_the_field(meshwork: Any, scripted: Any, key_file: Path) -> None:
    server = scripted([Reply(400, {"duration_s": ["must be between 60 and 5184000 seconds (60 days)"]})])
    result = meshwork(
        "rent", "--class", "cpu.small", "--duration", "10s", "--key", str(key_file), url=server.url, token="t"
    )
    assert result.exit_code == 1
    assert "duration_s" in one_error_line(result.stderr)
    assert "between 60 and 5184000" in one_error_line(result.stderr)


@pytest.mark.parametrize("duration", ["soon", "2w", "-5m", ""])
def test_a_bad_duration_is_a_usage_error_before_any_request(
    meshwork: Any, scripted: Any, key_file: Path, duration: str
) -> None:
    server = scripted([])
    result = meshwork("rent", "--class", "c", "--duration", duration, "--key", str(key_file), url=server.url, token="t")
    assert result.exit_code == 2
    assert "--duration" in one_error_line(result.stderr)
    assert server.seen == []


def test_a_missing_key_file_is_a_usage_error(meshwork: Any, scripted: Any, tmp_path: Path) -> None:
    server = scripted([])
    result = meshwork("rent", "--class", "c", "--key", str(tmp_path / "nope.pub"), url=server.url, token="t")
    assert result.exit_code == 2
    assert "no such key file" in one_error_line(result.stderr)
    assert server.seen == []


def test_rentals_lists_and_rent_end_ends(meshwork: Any, scripted: Any) -> None:
    server = scripted([Reply(200, {"count": 1, "next": None, "previous": None, "results": [ACTIVE]})])
    listed = meshwork("rentals", url=server.url, token="t", env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.stderr
    assert "ssh -p 40022 meshwork@miner.example" in listed.stdout

    server = scripted([Reply(200, rental_body("ended"))])
    ended = meshwork("rent-end", RENTAL_ID, url=server.url, token="t")
    assert (ended.exit_code, ended.stdout.strip()) == (0, f"{RENTAL_ID} ended")
    assert (server.seen[0].method, server.seen[0].path) == ("DELETE", f"/api/v1/rentals/{RENTAL_ID}/")

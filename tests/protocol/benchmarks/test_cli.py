"""meshwork-bench in process: each verb prints one JSON line; errors are one line and exit 2."""

import json
from pathlib import Path

import numpy as np
import pytest

from protocol.benchmarks.cli import main
from protocol.benchmarks.matmul import commit_rows, matmul_compute
from protocol.benchmarks.pow import pow_challenge, pow_check
from protocol.messages.benchmarks import CheckReason
from tests.protocol.benchmarks.openings import fresh_seed


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else {}, err


def test_pow_prints_nonces_that_pass(capsys: pytest.CaptureFixture[str]) -> None:
    challenge = pow_challenge(secret=b"s", miner_hotkey="m", executor="e", cycle=1)
    code, result, _ = run(capsys, "pow", challenge.hex(), "8", "5")
    assert code == 0
    assert pow_check(challenge=challenge, difficulty=8, count=5, nonces=result["nonces"])[0] is CheckReason.PASSED


def test_matmul_writes_c_and_prints_its_root(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed = fresh_seed()
    code, result, _ = run(capsys, "matmul", seed.hex(), "64", "--output", str(tmp_path))
    assert code == 0
    written = np.fromfile(tmp_path / "c.f32", dtype="<f4")
    assert written.size == 64 * 64
    c = matmul_compute(seed=seed, n=64)
    assert np.array_equal(written.reshape(64, 64), c)
    assert result["root"] == commit_rows(c)[0].hex()
    assert result["n"] == 64


def test_specs_prints_the_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, result, _ = run(capsys, "specs")
    assert code == 0
    assert result["cpu_cores"] >= 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pow", "zz", "8", "1"], "non-hexadecimal"),
        (["pow", "00" * 32, "99", "1"], "difficulty"),
        (["matmul", "00" * 8, "64"], "16 bytes"),
        (["matmul", "00" * 16, "64", "--output", "/nonexistent/dir"], "No such file"),
    ],
)
def test_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("meshwork-bench: ")
    assert message in err
    assert err.count("\n") == 1

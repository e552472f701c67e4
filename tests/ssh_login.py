"""The real OpenSSH client for rental tests: throwaway keys and one login (never asks anything)."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SSH_SETTINGS = ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "ConnectTimeout=10", "BatchMode=yes",
                "LogLevel=ERROR", "IdentitiesOnly=yes"]  # fmt: skip


@dataclass
class Keys:
    good: Path
    other: Path

    @property
    def good_public(self) -> str:
        return Path(f"{self.good}.pub").read_text()


def keys_make(root: Path) -> Keys:
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.fail("rental tests need the OpenSSH client (apt-get install openssh-client)")
    for name in ("good", "other"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)], check=True)
    return Keys(good=root / "good", other=root / "other")


def ssh(
    host: str, port: int, user: str, *command: str, key: Path | None = None, password: bool = False
) -> subprocess.CompletedProcess[str]:
    options = [part for setting in SSH_SETTINGS for part in ("-o", setting)] + ["-p", str(port)]
    if password:
        options += ["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no"]
    if key is not None:
        options += ["-i", str(key)]
    return subprocess.run(["ssh", *options, f"{user}@{host}", *command], capture_output=True, text=True, timeout=60)

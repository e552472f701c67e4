import json
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from protocol.keys import hotkey_load, is_ss58


def _keygen(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("keygen", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("crypto", ["sr25519", "ed25519"])
def test_keygen_writes_a_0600_key_file_and_prints_its_address(tmp_path, crypto):
    path = tmp_path / "keys" / "hotkey.json"
    out, err = _keygen("--crypto", crypto, "--path", str(path))
    address = out.strip()
    assert is_ss58(address)
    assert f"wrote {crypto} hotkey to {path}" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["ss58_address"] == address
    loaded = hotkey_load(path)
    assert (loaded.ss58, loaded.crypto) == (address, crypto)


def test_keygen_defaults_to_the_configured_path_and_sr25519(tmp_path, settings):
    settings.HOTKEY_PATH = tmp_path / "node.json"
    out, _ = _keygen()
    assert hotkey_load(settings.HOTKEY_PATH).ss58 == out.strip()
    assert hotkey_load(settings.HOTKEY_PATH).crypto == "sr25519"


def test_keygen_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "hotkey.json"
    first, _ = _keygen("--path", str(path))
    with pytest.raises(CommandError, match="exists; pass --force"):
        _keygen("--path", str(path))
    assert hotkey_load(path).ss58 == first.strip()
    second, _ = _keygen("--path", str(path), "--force")
    assert second != first
    assert hotkey_load(path).ss58 == second.strip()


def test_keygen_refuses_an_unknown_crypto(tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        _keygen("--crypto", "rsa", "--path", str(tmp_path / "k.json"))
    assert not (tmp_path / "k.json").exists()

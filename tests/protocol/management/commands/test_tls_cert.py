import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from protocol.tls import cert_file_fingerprint


def _tls_cert(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("tls_cert", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_writes_a_certificate_and_a_0600_key_and_prints_the_fingerprint(tmp_path, settings):
    settings.TLS_CERT_PATH, settings.TLS_KEY_PATH = str(tmp_path / "n.crt"), str(tmp_path / "n.key")
    out, err = _tls_cert("--host", "10.0.0.2")
    assert out.strip() == cert_file_fingerprint(tmp_path / "n.crt")
    assert stat.S_IMODE((tmp_path / "n.key").stat().st_mode) == 0o600
    assert "for 10.0.0.2" in err


def test_it_does_not_replace_a_certificate_unless_forced(tmp_path):
    paths = ["--cert", str(tmp_path / "n.crt"), "--key", str(tmp_path / "n.key")]
    first, _ = _tls_cert(*paths)
    with pytest.raises(CommandError, match="pass --force"):
        _tls_cert(*paths)
    assert cert_file_fingerprint(tmp_path / "n.crt") == first.strip()
    second, _ = _tls_cert(*paths, "--force")
    assert second != first
    assert cert_file_fingerprint(tmp_path / "n.crt") == second.strip()


def test_it_needs_both_paths(settings, tmp_path):
    settings.TLS_CERT_PATH = settings.TLS_KEY_PATH = ""
    with pytest.raises(CommandError, match="pass --cert and --key"):
        _tls_cert("--cert", str(tmp_path / "n.crt"))


def test_an_unwritable_place_is_a_clean_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(CommandError, match="cannot write the certificate"):
        _tls_cert("--cert", str(tmp_path / "file" / "n.crt"), "--key", str(tmp_path / "file" / "n.key"))

"""A node started by hand (config.settings.local) behaves like one the local network starts."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _debug(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MESHWORK_"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.local", **env)
    code = "from django.conf import settings; print(settings.DEBUG)"
    done = subprocess.run([sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_debug_is_off_unless_asked_for() -> None:
    assert _debug() == "False"
    assert _debug(DJANGO_DEBUG="1") == "True"

"""Role gating: a node mounts only its own role's URLs, websocket routes and admin models. Each
role is built in a fresh interpreter, since the URLconf is decided once per process."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config.roles import NodeRole, role_admin_modules, role_parse
from protocol.keys import hotkey_create, hotkey_write

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
import django
django.setup()
from django.contrib import admin
from django.urls import Resolver404, resolve
from config.websocket_routes import websocket_urlpatterns

def mounted(path):
    try:
        return resolve(path).view_name
    except Resolver404:
        return None

paths = ["/healthz/", "/admin/", "/api/v1/jobs/", "/api/docs/", "/admin/dashboard/", "/static/admin/css/base.css",
         "/api/v1/miners/", "/api/v1/miners/5Someone/", "/api/v1/receipts/", "/admin/miner-overview/"]
print(json.dumps({
    "paths": {p: mounted(p) for p in paths},
    "websockets": sorted(str(r.pattern) for r in websocket_urlpatterns),
    "admin_apps": sorted({m._meta.app_label for m in admin.site._registry}),
}))
"""


def _run(role: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "MESHWORK_ROLE": role, **extra_env}
    env.pop("MESHWORK_NODE_NAME", None)
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _probe(role: str, **extra_env: str) -> dict[str, Any]:
    done = _run(role, **extra_env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


VALIDATOR_ENV = {"FACILITATOR_URL": "ws://127.0.0.1:8000/", "FACILITATOR_HOTKEY": "5Facilitator"}
# The view each path resolves to (None: a 404). Without the dashboard, its path falls to the
# admin's catch-all (which answers with a login redirect or a 404).
EVERY_NODE = {
    "/healthz/": "config.probes.healthz",
    "/admin/": "admin:index",
    "/static/admin/css/base.css": "django.contrib.staticfiles.views.serve",
}
FACILITATOR_PATHS = {"/api/v1/jobs/": "job-list", "/api/docs/": "docs", "/admin/dashboard/": "meshwork-dashboard"}
NO_FACILITATOR_PATHS = {
    "/api/v1/jobs/": None,
    "/api/docs/": None,
    "/admin/dashboard/": "admin:django.contrib.admin.sites.catch_all_view",
}
VALIDATOR_PATHS = {"/api/v1/miners/": "validator-miner-list", "/api/v1/miners/5Someone/": "validator-miner-detail"}
NO_VALIDATOR_PATHS = dict.fromkeys(VALIDATOR_PATHS)
MINER_PATHS = {"/api/v1/receipts/": "miner-receipt-list", "/admin/miner-overview/": "meshwork-miner"}
NO_MINER_PATHS = {
    "/api/v1/receipts/": None,
    "/admin/miner-overview/": "admin:django.contrib.admin.sites.catch_all_view",
}
SHARED_APPS = ["auth", "authtoken", "chain", "constance", "dht"]


@pytest.mark.parametrize(
    ("role", "env", "paths", "websockets", "admin_apps"),
    [
        (
            "facilitator",
            {},
            {**FACILITATOR_PATHS, **NO_VALIDATOR_PATHS, **NO_MINER_PATHS},
            ["v1/facilitator/"],
            sorted([*SHARED_APPS, "executor", "facilitator"]),
        ),
        (
            "miner",
            {},
            {**NO_FACILITATOR_PATHS, **NO_VALIDATOR_PATHS, **MINER_PATHS},
            ["v1/miner/"],
            sorted([*SHARED_APPS, "executor", "miner"]),
        ),
        (
            "validator",
            VALIDATOR_ENV,
            {**NO_FACILITATOR_PATHS, **VALIDATOR_PATHS, **NO_MINER_PATHS},
            [],
            sorted([*SHARED_APPS, "executor", "validator"]),
        ),
        (
            "all",
            {},
            {**FACILITATOR_PATHS, **VALIDATOR_PATHS, **MINER_PATHS},
            ["v1/facilitator/", "v1/miner/"],
            sorted([*SHARED_APPS, "executor", "facilitator", "miner", "validator"]),
        ),
    ],
)
def test_each_role_mounts_only_its_own(role, env, paths, websockets, admin_apps):
    mounted = _probe(role, **env)
    assert mounted["paths"] == {**EVERY_NODE, **paths}
    assert mounted["websockets"] == websockets
    assert mounted["admin_apps"] == admin_apps


def test_an_unknown_role_stops_the_node_naming_the_allowed_values():
    done = _run("facilitater")
    assert done.returncode != 0
    assert "MESHWORK_ROLE='facilitater' is not a role; set it to one of: facilitator, validator, miner, all" in (
        done.stderr
    )


def test_a_validator_without_its_facilitator_stops_naming_the_settings(tmp_path):
    """Settings load without them (keygen, chain registration come first); running the node does not."""
    hotkey, seed = hotkey_create()
    hotkey_write(path=tmp_path / "hotkey.json", hotkey=hotkey, seed_hex=seed)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "MESHWORK_ROLE": "validator",
        "MESHWORK_HOTKEY_PATH": str(tmp_path / "hotkey.json"),
        "FACILITATOR_URL": "",
        "FACILITATOR_HOTKEY": "",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "run_validator"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "a validator needs FACILITATOR_URL" in done.stderr
    assert "FACILITATOR_HOTKEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_role_parse_accepts_exactly_the_roles():
    assert [role_parse(r.value) for r in NodeRole] == list(NodeRole)
    for bad in ("", "Miner", "miner ", "executor"):
        with pytest.raises(Exception, match="is not a role"):
            role_parse(bad)


def test_admin_modules_are_listed_once_even_when_roles_share_them():
    modules = role_admin_modules(NodeRole.ALL)
    assert len(modules) == len(set(modules))
    assert modules.count("executor.admin") == 1

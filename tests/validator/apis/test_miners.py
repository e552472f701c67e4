"""The validator's public read-only API: shapes exactly as DESIGN.md's "Validator API", no
credentials needed, a JSON 404 for an unknown miner, and a bounded number of queries."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from protocol.messages.miner import ClassStanding, ShareStanding
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerFactory,
    MinerManifestFactory,
    manifest_message,
)
from validator.models import BenchmarkCheck
from validator.services.miners import miner_share_record

pytestmark = pytest.mark.django_db
MINER_KEYS = {"hotkey", "coldkey", "manifest", "verified", "last_checked_at"}
CHECK_KEYS = {"cycle", "benchmark", "executor", "executor_class", "passed", "reason", "detail", "seconds"}


@pytest.fixture
def client() -> APIClient:
    cache.clear()  # the rate throttle counts in the cache
    return APIClient()  # no token: the API is public


@pytest.fixture
def checked_miner():
    miner = MinerFactory.create(hotkey="5Checked", coldkey="5Cold")
    MinerManifestFactory.create(miner=miner, message=manifest_message(h1={"cpu.small": 2}))
    cycle = BenchmarkCycleFactory.create(number=42)
    for index, matmul_passed in ((0, True), (1, False)):
        for benchmark, passed in (("pow", True), ("matmul", matmul_passed)):
            BenchmarkCheckFactory.create(
                cycle=cycle, miner=miner, executor=f"h1/cpu.small/{index}", benchmark=benchmark, passed=passed
            )
    return miner


def test_the_list_shows_claims_and_verified_executors(client, checked_miner):
    response = client.get("/api/v1/miners/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    last = BenchmarkCheck.objects.latest("created_at").created_at
    assert response.json() == [
        {
            "hotkey": "5Checked",
            "coldkey": "5Cold",
            "manifest": {"cpu.small": 2},
            "verified": {"cpu.small": 1},
            "last_checked_at": last.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_the_detail_adds_the_recent_checks(client, checked_miner):
    response = client.get("/api/v1/miners/5Checked/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == MINER_KEYS | {"checks", "share", "share_at"}
    assert body["verified"] == {"cpu.small": 1}
    assert all(set(check) == CHECK_KEYS for check in body["checks"])
    assert [(c["cycle"], c["executor"], c["benchmark"], c["passed"], c["reason"]) for c in body["checks"]] == [
        (42, "h1/cpu.small/0", "matmul", True, "passed"),
        (42, "h1/cpu.small/0", "pow", True, "passed"),
        (42, "h1/cpu.small/1", "matmul", False, "wrong_answer"),
        (42, "h1/cpu.small/1", "pow", True, "passed"),
    ]
    assert body["checks"][0]["seconds"] == 1.5


def test_an_unknown_miner_is_a_json_404(client):
    response = client.get("/api/v1/miners/5Nobody/")
    assert response.status_code == 404
    assert response.json() == {"detail": "no miner '5Nobody' is known to this validator"}


def test_a_miner_never_checked_has_empty_figures(client):
    MinerFactory.create(hotkey="5New", coldkey="")
    assert client.get("/api/v1/miners/5New/").json() == {
        "hotkey": "5New",
        "coldkey": "",
        "manifest": {},
        "verified": {},
        "last_checked_at": None,
        "checks": [],
        "share": {},
        "share_at": None,
    }


def test_the_detail_shows_where_this_validator_stands_in_the_miners_share(client):
    miner = MinerFactory.create(hotkey="5Shared")
    standing = ShareStanding(classes=[ClassStanding(executor_class="cpu.small", entitled=3, in_use=2, total=4)])
    miner_share_record(hotkey=miner.hotkey, standing=standing)
    body = client.get("/api/v1/miners/5Shared/").json()
    assert body["share"] == {"cpu.small": {"entitled": 3, "in_use": 2, "total": 4}}
    assert body["share_at"] is not None


def test_the_api_is_read_only(client, checked_miner):
    assert client.post("/api/v1/miners/", {}, format="json").status_code == 405
    assert client.delete("/api/v1/miners/5Checked/").status_code == 405


@pytest.mark.parametrize("miners", [1, 8])
def test_the_list_costs_the_same_queries_for_any_number_of_miners(client, django_assert_num_queries, miners):
    cycle = BenchmarkCycleFactory.create()
    for _ in range(miners):
        miner = MinerFactory.create()
        MinerManifestFactory.create(miner=miner)
        BenchmarkCheckFactory.create(cycle=cycle, miner=miner)
    with django_assert_num_queries(2):
        response = client.get("/api/v1/miners/")
    assert len(response.json()) == miners


def test_the_endpoints_are_in_the_openapi_schema(client):
    # Role "all" (the tests' role) serves the facilitator's schema, which then lists these too.
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/miners/", "/api/v1/miners/{hotkey}/"} <= set(paths)
    detail = paths["/api/v1/miners/{hotkey}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert detail == {"$ref": "#/components/schemas/MinerDetail"}
    properties = schema.json()["components"]["schemas"]["MinerDetail"]["properties"]
    assert set(properties) == MINER_KEYS | {"checks", "share", "share_at"}

"""Job submissions that are refused (the serializer's and the view's validation, over HTTP): every
kind is a 4xx naming the field and the reason, never a 5xx, and creates nothing."""

import base64
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from executor.models import ExecutorClass
from executor.selectors import executor_class_is_active
from facilitator.apis import serializers as job_serializers
from facilitator.models import CreditAccount, Job
from facilitator.services.credits import credits_grant
from tests.factories import JOB_IMAGE, zip_bytes

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs/"


# Submissions that are refused (the serializer's and the view's validation, over HTTP).
ZIP_B64 = base64.b64encode(zip_bytes({"a.txt": "a"})).decode()


def _job(**overrides) -> dict:
    body = {"image": JOB_IMAGE, "args": ["echo", "hi"]}
    body.update(overrides)
    return body


BAD_BODIES = [
    # (id, body, field, words in the reason)
    ("missing image", {"args": []}, "image", "required"),
    ("empty image", _job(image=""), "image", "blank"),
    ("image with spaces", _job(image="my image"), "image", "not a valid image"),
    ("image uppercase", _job(image="Meshwork/Job"), "image", "not a valid image"),
    ("image shell", _job(image="ubuntu;rm -rf /"), "image", "not a valid image"),
    ("image too long", _job(image="a" * 256), "image", "255"),
    ("image number", _job(image=123), "image", "not a valid string"),
    ("image null", _job(image=None), "image", "null"),
    ("args a string", _job(args="echo hi"), "args", "list"),
    ("args a dict", _job(args={"a": 1}), "args", "list"),
    ("args too long", _job(args=["x"] * 257), "args", "256"),
    ("args numbers", _job(args=[1, 2]), "args", "not a valid string"),
    ("args nested", _job(args=[["a"]]), "args", "not a valid string"),
    ("args null item", _job(args=[None]), "args", "null"),
    ("args bool item", _job(args=[True]), "args", "not a valid string"),
    ("args nul char", _job(args=["a\x00b"]), "args", "null characters"),
    ("arg too long", _job(args=["x" * 16385]), "args", "16384"),
    ("env a list", _job(env=["A=1"]), "env", "dictionary"),
    ("env bad key", _job(env={"1BAD": "x"}), "env", "invalid variable name"),
    ("env key with dash", _job(env={"MY-VAR": "x"}), "env", "invalid variable name"),
    ("env key with equals", _job(env={"A=B": "x"}), "env", "invalid variable name"),
    ("env empty key", _job(env={"": "x"}), "env", "invalid variable name"),
    ("env number value", _job(env={"A": 1}), "env", "not a valid string"),
    ("env null value", _job(env={"A": None}), "env", "null"),
    ("env too many", _job(env={f"V{i}": "x" for i in range(129)}), "env", "128"),
    ("unknown executor class", _job(executor_class="gpu.h100"), "executor_class", "unknown executor class"),
    ("executor class number", _job(executor_class=7), "executor_class", "not a valid string"),
    ("timeout 0", _job(timeout_s=0), "timeout_s", "greater than or equal to 1"),
    ("timeout negative", _job(timeout_s=-5), "timeout_s", "greater than or equal to 1"),
    ("timeout 86401", _job(timeout_s=86401), "timeout_s", "less than or equal to 86400"),
    ("timeout string", _job(timeout_s="ten minutes"), "timeout_s", "valid integer"),
    ("timeout fraction", _job(timeout_s=1.5), "timeout_s", "valid integer"),
    ("timeout bool", _job(timeout_s=True), "timeout_s", "valid integer"),
    ("timeout huge", _job(timeout_s=10**40), "timeout_s", "less than or equal to 86400"),
    ("input both keys", _job(input={"zip_b64": ZIP_B64, "url": "https://x.y/z"}), "input", "expected"),
    ("input empty", _job(input={}), "input", "expected"),
    ("input other key", _job(input={"path": "/etc/passwd"}), "input", "expected"),
    ("input a string", _job(input="https://x.y/z"), "input", "expected"),
    ("input a list", _job(input=[ZIP_B64]), "input", "expected"),
    ("input not base64", _job(input={"zip_b64": "not base64!!"}), "input", "not valid base64"),
    ("input not a zip", _job(input={"zip_b64": base64.b64encode(b"hello world").decode()}), "input", "zip archive"),
    ("input zip number", _job(input={"zip_b64": 5}), "input", "base64 string"),
    ("input bad url scheme", _job(input={"url": "ftp://x.y/z"}), "input", "http(s) URL"),
    ("input file url", _job(input={"url": "file:///etc/passwd"}), "input", "http(s) URL"),
    ("input url no host", _job(input={"url": "https://"}), "input", "http(s) URL"),
    ("input url number", _job(input={"url": 5}), "input", "http(s) URL"),
    ("input url too long", _job(input={"url": "https://x.y/" + "a" * 2000}), "input", "2000"),
    ("input url with nul", _job(input={"url": "https://x.y/\x00"}), "input", "http(s) URL"),
    ("input url with newline", _job(input={"url": "https://x.y/a\nb"}), "input", "http(s) URL"),
    ("input url with credentials", _job(input={"url": "https://u:p@x.y/z"}), "input", "credentials in the URL"),
    ("input url port 0", _job(input={"url": "https://x.y:0/z"}), "input", "between 1 and 65535"),
    ("input url port too big", _job(input={"url": "https://x.y:65536/z"}), "input", "between 1 and 65535"),
    ("input url unclosed ipv6", _job(input={"url": "http://[::1/z"}), "input", "not a valid URL"),
    ("tag too long", _job(tag="t" * 256), "tag", "255"),
    ("tag number", _job(tag=5), "tag", "not a valid string"),
    ("tag null", _job(tag=None), "tag", "null"),
]


@pytest.mark.parametrize(("body", "field", "reason"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_bad_field_is_400_with_the_field_and_reason(api, body, field, reason):
    response = api.post(JOBS, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == [field]
    assert reason.lower() in json.dumps(errors[field]).lower()
    assert Job.objects.count() == 0


def test_several_bad_fields_are_all_reported(api):
    response = api.post(JOBS, {"image": "", "timeout_s": 0, "env": {"1": "x"}, "tag": "t" * 300}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"image", "timeout_s", "env", "tag"}


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "field"),
    [
        ("{not json", "application/json", 400, "body"),
        ('{"image": "x",}', "application/json", 400, "body"),
        (b"\xff\xfe\xfd", "application/json", 400, "body"),
        ('{"image": "a", "timeout_s": NaN}', "application/json", 400, "body"),
        ("[" * 50_000, "application/json", 400, "body"),
        ("[1, 2, 3]", "application/json", 400, "non_field_errors"),
        ('["image"]', "application/json", 400, "non_field_errors"),
        ('"just a string"', "application/json", 400, "non_field_errors"),
        ("null", "application/json", 400, "non_field_errors"),
        ("42", "application/json", 400, "non_field_errors"),
        ("", "application/json", 400, "image"),
        ("<job/>", "application/xml", 415, "detail"),
    ],
    ids=[
        "not json",
        "trailing comma",
        "not utf8",
        "NaN",
        "nested too deep",
        "a list",
        "a list of names",
        "a string",
        "null",
        "a number",
        "empty",
        "xml",
    ],
)
def test_body_that_is_not_a_json_object(api, raw, content_type, status, field):
    response = api.post(JOBS, data=raw, content_type=content_type)
    assert response.status_code == status, response.content
    assert field in response.json()
    assert Job.objects.count() == 0


def test_body_too_large_is_413(api):
    # Above Django's request body limit the body is not even read.
    from django.conf import settings as django_settings

    tag = "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = api.post(JOBS, data=json.dumps(_job(tag=tag)), content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"body": ["request body is too large"]}


def test_zip_input_of_several_megabytes_is_accepted(api):
    # The request body limit follows FACILITATOR_MAX_INPUT_BYTES, so a 4 MiB input is not refused.
    blob = base64.b64encode(zip_bytes({"big.bin": "a" * 10}) + b"\0" * (4 * 1024 * 1024)).decode()
    response = api.post(JOBS, data=json.dumps(_job(input={"zip_b64": blob})), content_type="application/json")
    assert response.status_code == 201, response.content[:300]


def test_input_too_large_is_413_naming_input(api, settings):
    settings.FACILITATOR_MAX_INPUT_BYTES = 1024
    big = base64.b64encode(zip_bytes({"a.bin": bytes(range(256)) * 8})).decode()
    response = api.post(JOBS, _job(input={"zip_b64": big}), format="json")
    assert response.status_code == 413
    assert list(response.json()) == ["input"]
    assert "1024 bytes" in response.json()["input"][0]
    assert Job.objects.count() == 0
    small = base64.b64encode(zip_bytes({"a": "b"})).decode()
    assert api.post(JOBS, _job(input={"zip_b64": small}), format="json").status_code == 201


def test_insufficient_credits_is_402_and_holds_nothing(api, funded_user):
    # 100 credits; cpu.large costs 0.004/s, so 86400 s may cost 345.6.
    response = api.post(JOBS, _job(executor_class="cpu.large", timeout_s=86400), format="json")
    assert response.status_code == 402
    assert response.json() == {
        "credits": ["this job may cost up to 345.600000 credits; 100.000000 available"],
        "needed": "345.600000",
        "available": "100.000000",
    }
    assert Job.objects.count() == 0
    assert CreditAccount.objects.get(user=funded_user).held == 0


def test_credits_held_by_running_jobs_count_against_new_ones(api, funded_user):
    # 100 credits hold exactly 100000 s of cpu.small: two 50000 s jobs fit, a third does not.
    assert api.post(JOBS, _job(timeout_s=50000), format="json").status_code == 201
    assert api.post(JOBS, _job(timeout_s=50000), format="json").status_code == 201
    response = api.post(JOBS, _job(timeout_s=1), format="json")
    assert response.status_code == 402
    assert response.json()["available"] == "0.000000"
    credits_grant(user=funded_user, amount=Decimal("0.001"))
    assert api.post(JOBS, _job(timeout_s=1), format="json").status_code == 201


def test_class_deactivated_after_the_serializer_checked_it_is_400(api, monkeypatch):
    """The serializer saw the class active; by the time the service reads it, an operator has
    deactivated it. The service's refusal is the same 400 as the serializer's, never a 500."""

    def check_then_deactivate(*, name: str) -> bool:
        active = executor_class_is_active(name=name)
        ExecutorClass.objects.filter(name=name).update(is_active=False)
        return active

    monkeypatch.setattr(job_serializers, "executor_class_is_active", check_then_deactivate)
    response = api.post(JOBS, _job(executor_class="cpu.large"), format="json")
    assert response.status_code == 400
    assert response.json() == {"executor_class": ["unknown executor class 'cpu.large'; see /api/v1/executor-classes/"]}
    assert Job.objects.count() == 0


def test_user_without_an_account_is_402(user, executor_classes):
    # A user who never had credits: an account with a ledger cannot be deleted (it PROTECTs).
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(JOBS, _job(), format="json")
    assert response.status_code == 402
    assert response.json()["available"] == "0"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
job_fields = st.sampled_from(["image", "args", "env", "executor_class", "timeout_s", "input", "tag"])
job_bodies = st.one_of(
    json_values,
    st.dictionaries(job_fields, json_values, max_size=7),
    st.fixed_dictionaries(
        {"image": st.sampled_from([JOB_IMAGE, "alpine", "x" * 300, ""]) | st.text(max_size=30)},
        optional={
            "args": st.lists(st.text(max_size=20) | st.integers(), max_size=5) | json_values,
            "env": st.dictionaries(st.text(max_size=8), st.text(max_size=8) | json_values, max_size=3),
            "executor_class": st.sampled_from(["cpu.small", "cpu.large", "gpu"]) | json_values,
            "timeout_s": st.integers(-10, 100_000) | json_values,
            "input": st.none()
            | st.fixed_dictionaries({"zip_b64": st.sampled_from([ZIP_B64, "UEsDBA==", "!!"]) | st.text(max_size=12)})
            | st.fixed_dictionaries({"url": st.text(max_size=30).map(lambda s: "https://" + s)})
            | json_values,
            "tag": st.text(max_size=300) | json_values,
        },
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=job_bodies)
def test_fuzz_random_bodies_never_5xx(api, body):
    response = api.post(JOBS, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (201, 400, 402, 413), (response.status_code, body)
    if response.status_code == 400:
        errors = response.json()
        assert isinstance(errors, dict)
        assert errors
        assert all(isinstance(reasons, list | dict) for reasons in errors.values())

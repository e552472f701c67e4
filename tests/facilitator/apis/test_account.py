"""`GET /api/v1/account/`: the user's balance, what is held and what is available."""

import pytest

from tests.factories import JOB_IMAGE

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs/"


def test_account_shows_balance_and_holds(api, funded_user):
    api.post(JOBS, {"image": JOB_IMAGE, "timeout_s": 1000}, format="json")
    assert api.get("/api/v1/account/").json() == {
        "username": funded_user.username,
        "balance": "100.000000",
        "held": "1.000000",
        "available": "99.000000",
    }

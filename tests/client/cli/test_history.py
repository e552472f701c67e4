"""`meshwork history`: the credit ledger as a table, against a scripted facilitator (what goes
over the wire, what is printed)."""

from typing import Any

from tests.client.cli.conftest import one_error_line
from tests.client.conftest import Reply

JOB = "7b3a2f52-8d44-4a7e-9c8a-3d0c5e1b2a11"


def entry(**overrides: Any) -> dict[str, Any]:
    body = {
        "id": 3,
        "kind": "charge",
        "amount": "0.100000",
        "note": "",
        "job": JOB,
        "created_at": "2026-12-02T18:00:00Z",
        "balance_after": "102.400000",
    }
    return body | overrides


def page(*entries: dict[str, Any], count: int | None = None, next_url: str | None = None) -> dict[str, Any]:
    total = len(entries) if count is None else count
    return {"count": total, "next": next_url, "previous": None, "results": list(entries)}


def test_history_prints_charges_as_minus_and_credits_as_plus(meshwork: Any, scripted: Any) -> None:
    rows = [
        entry(),
        entry(id=2, kind="topup", amount="2.500000", job=None, note="card", balance_after="102.500000"),
        entry(id=1, kind="refund", amount="-0.300000", balance_after="100.000000"),
    ]
    server = scripted([Reply(200, page(*rows))])
    result = meshwork("history", url=server.url, token="t", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["when", "kind", "amount", "balance", "job", "note"]
    assert lines[1:] == [
        ["2026-12-02T18:00:00+00:00", "charge", "-0.100000", "102.400000", JOB],
        ["2026-12-02T18:00:00+00:00", "topup", "+2.500000", "102.500000", "card"],
        ["2026-12-02T18:00:00+00:00", "refund", "+0.300000", "100.000000", JOB],
    ]
    assert server.seen[0].path == "/api/v1/account/history/?limit=50&offset=0"
    assert result.stderr == ""


def test_history_sends_kind_and_limit_and_says_when_there_is_more(meshwork: Any, scripted: Any) -> None:
    more = "http://x/api/v1/account/history/?kind=topup&limit=1&offset=1"
    server = scripted([Reply(200, page(entry(kind="topup", job=None), count=4, next_url=more))])
    result = meshwork("history", "--kind", "topup", "--limit", "1", url=server.url, token="t")
    assert result.exit_code == 0, result.stderr
    assert server.seen[0].path == "/api/v1/account/history/?limit=1&offset=0&kind=topup"
    assert result.stderr == "meshwork: 1 of 4 rows shown (--limit for more)\n"


def test_a_bad_kind_is_one_error_line_naming_the_field(meshwork: Any, scripted: Any) -> None:
    server = scripted([Reply(400, {"kind": ['"nope" is not a valid choice.']})])
    result = meshwork("history", "--kind", "nope", url=server.url, token="t")
    assert result.exit_code != 0
    assert one_error_line(result.stderr).endswith('400 kind: "nope" is not a valid choice.')

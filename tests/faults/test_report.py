"""A fault report is clean only when nothing went wrong and the fault hit a full batch in flight."""

from decimal import Decimal

import pytest

from tests.faults.report import IN_FLIGHT, FaultReport


def _clean_report(**changes: object) -> FaultReport:
    report = FaultReport(scenario="s", jobs=IN_FLIGHT, in_flight=IN_FLIGHT, terminal=IN_FLIGHT)
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def test_a_report_with_nothing_wrong_and_every_job_in_flight_is_clean() -> None:
    assert _clean_report().clean


@pytest.mark.parametrize(
    "changes",
    [
        {"in_flight": IN_FLIGHT - 1},  # a job had ended before the fault: it did not test that job
        {"lost": ["u"]},
        {"completed_twice": ["u"]},
        {"charged_twice": ["u"]},
        {"charged_for_infrastructure": ["u"]},
        {"balance_off_by": Decimal("0.000001")},
    ],
)
def test_any_one_thing_wrong_makes_it_unclean(changes: dict[str, object]) -> None:
    report = _clean_report(**changes)
    assert not report.clean
    assert report.line().startswith("[s] jobs=20 in_flight_at_fault=")

"""Database aggregates Django lacks, for the dashboards' selectors (Postgres)."""

from typing import Any

from django.db.models import Aggregate, FloatField


class Percentile(Aggregate):
    """The continuous percentile (0..1) of an expression: `percentile_cont(0.95) WITHIN GROUP`."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"a percentile is a fraction in [0, 1], not {fraction}")
        super().__init__(expression, fraction=float(fraction), **extra)

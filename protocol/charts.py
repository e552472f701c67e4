"""Server-rendered SVG charts (bars; lines for series over time) for the admin pages of every role:
no JavaScript, no CDN, readable anywhere."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Literal


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


def bar_chart_svg(*, title: str, bars: list[Bar], unit: str = "", width: int = 640) -> str:
    """Horizontal bars, one per row, each labelled with its value."""
    row, label_w, pad = 26, 190, 8
    height = 34 + row * max(1, len(bars))
    top = max((b.value for b in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" '
        f'aria-label="{escape(title)}" style="font:12px sans-serif">',
        f'<text x="0" y="16" style="font-weight:bold">{escape(title)}</text>',
    ]
    if not bars:
        parts.append('<text x="0" y="46" fill="#666">no data yet</text>')
    for i, bar in enumerate(bars):
        y = 28 + i * row
        w = (width - label_w - 90) * bar.value / top
        parts.append(f'<text x="0" y="{y + 14}">{escape(bar.label[:28])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - pad}" fill="#417690"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{bar.value:,.3g}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[float, float], ...]  # (x, y), any order


# Distinguishable on white, in this order (the first matches the bar chart's colour).
PALETTE = ("#417690", "#d9822b", "#2e8b57", "#c0392b", "#8e44ad", "#7f8c8d", "#b8860b", "#1abc9c", "#e84393", "#34495e")
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 190, 30, 52


def line_chart_svg(
    *,
    title: str,
    series: list[Series],
    x_label: str,
    y_label: str,
    unit: str = "",
    y_max: float | None = None,
    marks: dict[float, str] | None = None,
    width: int = 720,
    height: int = 280,
    x_format: Callable[[float], str] | None = None,
) -> str:
    """One line per series over a shared x axis (e.g. cycle numbers), y from 0, a legend with each
    series' last value, and optional `marks`: an x flagged with a "×" under the axis, its note as the
    tooltip (e.g. a cycle whose weights never reached the chain). `x_format` writes an x value
    (default: as a number; `time_ticks` for Unix timestamps)."""
    tick = x_format or _tick
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    xs = sorted({x for s in series for x, _ in s.points} | set(marks or {}))
    top = y_max or max((y for s in series for _, y in s.points), default=0) or 1
    x0, x1 = (xs[0], xs[-1]) if xs else (0.0, 1.0)

    def px(x: float) -> float:
        return _LEFT + (plot_w / 2 if x1 == x0 else plot_w * (x - x0) / (x1 - x0))

    def py(y: float) -> float:
        return _TOP + plot_h * (1 - min(y, top) / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" '
        f'aria-label="{escape(title)}" style="font:12px sans-serif">',
        f'<text x="0" y="16" style="font-weight:bold">{escape(title)}</text>',
    ]
    if not any(s.points for s in series):
        parts.append('<text x="0" y="46" fill="#666">no data yet</text></svg>')
        return "".join(parts)
    parts.append(_axes(top=top, unit=unit, x_label=x_label, y_label=y_label, width=width, height=height))
    step = max(1, len(xs) // 8)  # at most ~8 tick labels, so they never overlap
    for i, x in enumerate(xs):
        if i % step == 0 or i == len(xs) - 1:
            label = escape(tick(x))
            parts.append(f'<text x="{px(x):.1f}" y="{_TOP + plot_h + 16}" text-anchor="middle">{label}</text>')
    for x, note in sorted((marks or {}).items()):
        parts.append(
            f'<text x="{px(x):.1f}" y="{_TOP + plot_h + 30}" text-anchor="middle" fill="#c0392b">×'
            f"<title>{escape(tick(x))}: {escape(note)}</title></text>"
        )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(_line(s, colour=colour, px=px, py=py, unit=unit, tick=tick))
        parts.append(_legend_row(s, colour=colour, x=width - _RIGHT + 12, y=_TOP + 4 + i * 18, unit=unit))
    parts.append("</svg>")
    return "".join(parts)


def time_ticks(step_s: float) -> Callable[[float], str]:
    """Writes a Unix timestamp as its UTC hour ("14:00") for steps under a day, else its date ("12-02")."""
    pattern = "%H:%M" if step_s < 86400 else "%m-%d"
    return lambda x: datetime.fromtimestamp(x, tz=UTC).strftime(pattern)


def _tick(x: float) -> str:
    """An x value as written: cycle and epoch numbers in full, however large."""
    return f"{x:.0f}" if x == int(x) else f"{x:g}"


def _number(value: float) -> str:
    """3 significant digits, but whole numbers from 1,000 up (no "1.08e+03" on an axis)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _axes(*, top: float, unit: str, x_label: str, y_label: str, width: int, height: int) -> str:
    bottom, right = height - _BOTTOM, width - _RIGHT
    mid = (_TOP + bottom) / 2
    return (
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="#999"/>'
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end">{_number(top)}{escape(unit)}</text>'
        f'<text x="{_LEFT - 4}" y="{bottom}" text-anchor="end">0{escape(unit)}</text>'
        f'<text x="12" y="{mid}" text-anchor="middle" transform="rotate(-90 12 {mid})">{escape(y_label)}</text>'
        f'<text x="{(_LEFT + right) / 2}" y="{height - 6}" text-anchor="middle">{escape(x_label)}</text>'
    )


def _legend_row(s: Series, *, colour: str, x: int, y: int, unit: str) -> str:
    """A swatch, the label and the series' last value (the newest is what an operator reads first)."""
    last = f" {_number(max(s.points)[1])}{unit}" if s.points else " -"
    return (
        f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"/>'
        f'<text x="{x + 14}" y="{y + 9}">{escape(s.label[:16])}{escape(last)}</text>'
    )


def _line(
    s: Series,
    *,
    colour: str,
    px: Callable[[float], float],
    py: Callable[[float], float],
    unit: str,
    tick: Callable[[float], str],
) -> str:
    points = sorted(s.points)
    path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
    dots = "".join(
        f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}">'
        f"<title>{escape(s.label)} @ {escape(tick(x))}: {_number(y)}{escape(unit)}</title></circle>"
        for x, y in points
    )
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>{dots}'


@dataclass(frozen=True)
class Window:
    """How far back a dashboard looks, and the bucket its series are counted in."""

    key: str
    label: str
    span: timedelta
    step: Literal["hour", "day"]

    @property
    def step_s(self) -> float:
        return 3600.0 if self.step == "hour" else 86400.0


WINDOWS = {
    "24h": Window("24h", "last 24 h, per hour", timedelta(hours=24), "hour"),
    "7d": Window("7d", "last 7 days, per day", timedelta(days=7), "day"),
}


def window_parse(value: str | None) -> Window:
    """The window a dashboard's `?window=` names; an unknown one shows the default (24 h)."""
    return WINDOWS.get(value or "", WINDOWS["24h"])


def time_series(label: str, values: dict[datetime, float]) -> Series:
    """A series over time: x is the bucket's Unix timestamp (drawn with `time_ticks`)."""
    return Series(label, tuple((at.timestamp(), float(v)) for at, v in sorted(values.items())))


def bucket_starts(window: Window, now: datetime) -> list[datetime]:
    """Every bucket's start in the window, oldest first (UTC hours or days, as the database truncates)."""
    step = timedelta(seconds=window.step_s)
    newest = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if window.step == "day":
        newest = newest.replace(hour=0)
    count = int(window.span / step)
    return [newest - step * i for i in range(count - 1, -1, -1)]


def zero_filled(values: dict[datetime, float], starts: list[datetime]) -> dict[datetime, float]:
    """A count per bucket, 0 where nothing was counted (a quiet hour is a 0, not a gap)."""
    return {at: values.get(at, 0.0) for at in starts} | values

"""Server-rendered SVG bar charts for the admin pages of every role: no JavaScript, no CDN, readable anywhere."""

from dataclasses import dataclass
from html import escape


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
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
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

"""Small server-rendered SVG line charts: no JavaScript, readable by screen readers through <title>."""

from __future__ import annotations

import math
from html import escape


def line_chart(series: dict[str, list[float | None]], title: str, unit: str = "", width: int = 320,
               height: int = 90) -> str:
    """Return an SVG with one polyline per named series (None values are gaps); empty series say so."""
    values = [v for points in series.values() for v in points if v is not None and math.isfinite(v)]
    label = escape(title)
    if not values:
        return f'<p class="empty">No data yet for {label}.</p>'
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    colours = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700"]
    lines = []
    for index, (name, points) in enumerate(series.items()):
        n = max(len(points) - 1, 1)
        coords = [f"{4 + i * (width - 8) / n:.1f},{height - 14 - (v - low) / (high - low) * (height - 24):.1f}"
                  for i, v in enumerate(points) if v is not None and math.isfinite(v)]
        if len(coords) == 1:  # one monitor run so far: a dot, not an invisible line
            x, y = coords[0].split(",")
            lines.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colours[index % 4]}"><title>{escape(name)}</title></circle>')
        elif coords:
            lines.append(f'<polyline fill="none" stroke="{colours[index % 4]}" stroke-width="2" '
                         f'points="{" ".join(coords)}"><title>{escape(name)}</title></polyline>')
    legend = " · ".join(f'<tspan fill="{colours[i % 4]}">{escape(name)}</tspan>' for i, name in enumerate(series))
    return (f'<svg role="img" aria-label="{label}" viewBox="0 0 {width} {height}" width="100%" height="{height}" '
            f'preserveAspectRatio="none">'
            f"<title>{label}</title>{''.join(lines)}"
            f'<text x="4" y="{height - 2}" font-size="10">{legend} · {low:.3g}–{high:.3g}{escape(unit)}</text></svg>')

"""Small self-contained HTML pages (cost projections, vendor comparisons): tables and Plotly charts, no network."""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #111827; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #e5e7eb; padding-bottom: .25rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .3rem .5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.muted { color: #6b7280; font-size: .85rem; } .bad { color: #b91c1c; }
"""


def cell(value) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4g}"
    return html.escape(str(value))


def table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title: str, subtitle: str, sections: list[tuple[str, str]], figures: list[go.Figure]) -> str:
    """Return a whole HTML page; Plotly's JavaScript is inlined once, so it works offline."""
    charts = "".join(
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    )
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1><p class='muted'>{html.escape(subtitle)}</p>"
            f"{body}<h2>Charts</h2>{charts}<p class='muted'>Made by depthgauge.</p></body></html>")

"""The self-contained HTML report: verdict, profile, scorecard and plots, with Plotly's JavaScript inlined once."""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import plotly.graph_objects as go
from sklearn.metrics import precision_recall_curve, roc_curve

from depthgauge.assess.quality import LABELS, LOWER_IS_BETTER
from depthgauge.assess.results import Assessment
from depthgauge.money import usd
from depthgauge.cost.catalog import Instance
from depthgauge.files import write_text_atomic

TEMPLATE = Path(__file__).parent / "report_template.html"
_LAYOUT = dict(template="plotly_white", height=360, margin=dict(l=50, r=20, t=50, b=50))


def _figures(assessment: Assessment) -> list[tuple[str, go.Figure]]:
    trained = [c for c in assessment.candidates if c.ok]
    metric = assessment.verdict.primary_metric
    label = LABELS[metric]
    figures = []

    # Dots with intervals, not bars from zero: the differences that decide the verdict stay visible.
    fig = go.Figure(go.Scatter(
        x=[c.display_name for c in trained], y=[c.quality[metric].value for c in trained], mode="markers",
        error_y=dict(type="data", symmetric=False,
                     array=[c.quality[metric].high - c.quality[metric].value for c in trained],
                     arrayminus=[c.quality[metric].value - c.quality[metric].low for c in trained]),
        marker=dict(size=12, color=["#c2410c" if c.is_deep else "#1d4ed8" for c in trained]),
    ))
    better = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
    fig.update_layout(title=f"{label} on the test rows, with 95% bootstrap intervals ({better})", **_LAYOUT)
    figures.append(("Quality", fig))

    task = assessment.profile["task"]
    if task == "binary":
        roc, pr = go.Figure(), go.Figure()
        for c in trained:
            actual = c.outcome.y == c.outcome.positive
            scores = c.outcome.proba[:, c.outcome.positive]
            fpr, tpr, _ = roc_curve(actual, scores)
            precision, recall, _ = precision_recall_curve(actual, scores)
            roc.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=c.display_name))
            pr.add_trace(go.Scatter(x=recall, y=precision, mode="lines", name=c.display_name))
        roc.update_layout(title="ROC curves", xaxis_title="false-positive rate", yaxis_title="true-positive rate", **_LAYOUT)
        pr.update_layout(title="Precision-recall curves", xaxis_title="recall", yaxis_title="precision", **_LAYOUT)
        figures += [("ROC", roc), ("Precision-recall", pr)]
    elif task == "regression":
        residuals = go.Figure()
        for c in trained:
            residuals.add_trace(go.Box(y=c.outcome.pred - c.outcome.y, name=c.display_name, boxpoints=False))
        residuals.update_layout(title="Residuals (prediction − actual) on the test rows", **_LAYOUT)
        figures.append(("Residuals", residuals))

    for c in trained:
        if c.learning_curve:
            curve = go.Figure()
            epochs = list(range(1, len(c.learning_curve["train_loss"]) + 1))
            curve.add_trace(go.Scatter(x=epochs, y=c.learning_curve["train_loss"], name="train loss"))
            curve.add_trace(go.Scatter(x=epochs, y=c.learning_curve["val_loss"], name="validation loss"))
            curve.add_vline(x=c.learning_curve["best_epoch"] + 1, line_dash="dot", annotation_text="kept")
            curve.update_layout(title=f"{c.display_name}: learning curves (stopped: {c.learning_curve['stopped_because']})",
                                xaxis_title="epoch", **_LAYOUT)
            figures.append((f"Learning curves: {c.display_name}", curve))

    latency = go.Figure()
    for c in trained:
        latency.add_trace(go.Box(y=c.operations.latencies_ms, name=c.display_name, boxpoints=False))
    latency.update_layout(title="Single-row prediction latency (ms)", yaxis_type="log", **_LAYOUT)
    figures.append(("Latency", latency))

    cost = go.Figure(go.Bar(x=[c.display_name for c in trained],
                            y=[c.cost.monthly_inference_cost_usd for c in trained],
                            marker_color=["#c2410c" if c.is_deep else "#1d4ed8" for c in trained]))
    cost.update_layout(title=f"Monthly inference cost at {assessment.options['monthly_volume']:,} predictions (USD)",
                       **_LAYOUT)
    figures.append(("Cost", cost))
    return figures


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        return f"{value:,.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def render_report(assessment: Assessment, instance: Instance) -> str:
    """Return the report as one HTML string that needs no network."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["fmt"] = _fmt
    environment.filters["money"] = usd
    charts = []
    for i, (title, fig) in enumerate(_figures(assessment)):
        charts.append((title, fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})))
    return environment.from_string(TEMPLATE.read_text()).render(
        a=assessment, instance=instance, charts=charts, labels=LABELS, trained=[c for c in assessment.candidates if c.ok],
    )


def write_report(assessment: Assessment, instance: Instance, path: Path) -> Path:
    """Write the report atomically to `path` and return it."""
    return write_text_atomic(path, render_report(assessment, instance))

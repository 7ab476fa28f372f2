"""The self-contained HTML report: verdict, profile, scorecard and plots, with Plotly's JavaScript inlined once."""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import numpy as np
import plotly.graph_objects as go
from sklearn.metrics import precision_recall_curve, roc_curve

from depthgauge.assessment.quality import LABELS, LOWER_IS_BETTER
from depthgauge.assessment.results import Assessment
from depthgauge.assessment.risk import CALIBRATION_BINS
from depthgauge.cost.catalog import Instance
from depthgauge.files import write_text_atomic
from depthgauge.money import usd

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
    over = assessment.split.get("repeats") or 1
    basis = (f"the mean over {over} repeated splits, with 95% corrected resampled intervals" if over > 1 else
             "the test rows, with 95% bootstrap intervals")
    fig.update_layout(title=f"{label}: {basis} ({better})", **_LAYOUT)
    figures.append(("Quality", fig))
    money = assessment.verdict.money_curves
    if money:
        figures.append(("Net value against volume", _money_figure(assessment, money)))

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
    if task in ("binary", "multiclass"):
        figures.append(("Reliability", _reliability(trained)))
    elif task == "regression":
        residuals = go.Figure()
        for c in trained:
            residuals.add_trace(go.Box(y=c.outcome.pred - c.outcome.y, name=c.display_name, boxpoints=False))
        residuals.update_layout(title="Residuals (prediction − actual) on the test rows", **_LAYOUT)
        figures.append(("Residuals", residuals))
        figures.append(("Residuals against prediction", _residuals_against_prediction(trained)))

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

    importance = importance_table(assessment)
    if importance:
        figures.append(("Permutation importance", _importance_figure(importance)))

    latency = go.Figure()
    for c in trained:
        latency.add_trace(go.Box(y=c.operations.latencies_ms, name=c.display_name, boxpoints=False))
    latency.update_layout(title="Single-row prediction latency (ms)", yaxis_type="log", **_LAYOUT)
    figures.append(("Latency", latency))

    cost = go.Figure()
    for part, colour in (("serving", "#1d4ed8"), ("human_review", "#d97706"), ("retraining", "#059669")):
        cost.add_trace(go.Bar(name=part.replace("_", " "), x=[c.display_name for c in trained],
                              y=[c.cost.monthly[part] for c in trained], marker_color=colour))
    cost.update_layout(barmode="stack", title=f"Monthly cost of ownership at {assessment.options['monthly_volume']:,} "
                                              "predictions (USD)", **_LAYOUT)
    figures.append(("Cost", cost))
    return figures


def _reliability(trained) -> go.Figure:
    """The reliability diagram: in each band of stated confidence, how often the model was right."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#9ca3af"),
                               name="perfectly calibrated"))
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    for c in trained:
        if c.outcome.proba is None or c.family == "dummy":
            continue
        confidence = c.outcome.proba.max(axis=1)
        correct = c.outcome.pred == c.outcome.y
        which = np.clip(np.digitize(confidence, edges[1:-1]), 0, CALIBRATION_BINS - 1)
        shown = [b for b in range(CALIBRATION_BINS) if (which == b).sum() >= 5]
        fig.add_trace(go.Scatter(x=[float(confidence[which == b].mean()) for b in shown],
                                 y=[float(correct[which == b].mean()) for b in shown], mode="lines+markers",
                                 name=c.display_name, text=[f"{int((which == b).sum())} rows" for b in shown]))
    fig.update_layout(title="Reliability: stated confidence against how often the prediction was right",
                      xaxis_title="mean confidence in the band", yaxis_title="share right", **_LAYOUT)
    return fig


def _residuals_against_prediction(trained, most: int = 2000) -> go.Figure:
    fig = go.Figure()
    for c in trained:
        keep = np.random.default_rng(0).permutation(len(c.outcome.y))[:most]
        fig.add_trace(go.Scattergl(x=c.outcome.pred[keep], y=(c.outcome.pred - c.outcome.y)[keep], mode="markers",
                                   marker=dict(size=4, opacity=0.5), name=c.display_name))
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(title="Residuals against prediction: a pattern here is error the model could still learn",
                      xaxis_title="prediction", yaxis_title="prediction − actual", **_LAYOUT)
    return fig


def _money_figure(assessment: Assessment, money: dict) -> go.Figure:
    """Monthly net value (or, without --value, minus the monthly cost) of the deep and the simple option."""
    by_name = {c.name: c for c in assessment.candidates}
    deep, simple = by_name[assessment.verdict.deep], by_name[assessment.verdict.best_simple]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=money["volumes"], y=money["simple"], mode="lines", name=simple.display_name))
    fig.add_trace(go.Scatter(x=money["volumes"], y=money["deep"], mode="lines", name=deep.display_name))
    fig.add_vline(x=assessment.options["monthly_volume"], line_dash="dot", annotation_text="this run's volume")
    valued = assessment.options.get("value") is not None
    fig.update_layout(title=("Net value a month, by your value matrix less the cost of ownership" if valued else
                             "Minus the monthly cost of ownership (no --value given)"),
                      xaxis=dict(type="log", title="predictions a month"), yaxis_title="US dollars a month", **_LAYOUT)
    return fig


def leaderboard(assessment: Assessment) -> list[dict]:
    """Every trained candidate ranked by the primary metric (the mean over repeated splits when there were any)."""
    from depthgauge.assessment.verdict import split_mean

    metric = assessment.verdict.primary_metric
    rows = [{"candidate": c, "score": split_mean(c, metric), "interval": c.quality[metric]}
            for c in assessment.candidates if c.ok and metric in c.quality]
    rows.sort(key=lambda r: r["score"], reverse=metric not in LOWER_IS_BETTER)
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def confusion(candidate) -> dict | None:
    """The confusion matrix of a classifier on the test rows: counts by actual (rows) and predicted class."""
    outcome = candidate.outcome
    if outcome is None or outcome.proba is None:
        return None
    classes = sorted({str(v) for v in outcome.y} | {str(v) for v in outcome.pred})[:20]
    actual, said = outcome.y.astype(str), outcome.pred.astype(str)
    return {"classes": classes, "counts": [[int(((actual == a) & (said == p)).sum()) for p in classes]
                                           for a in classes]}


TOP_FEATURES = 12


def importance_table(assessment: Assessment) -> dict | None:
    """The top features by permutation importance, ranked by the recommended model (else the first measured), with
    every measured candidate's drop and interval side by side."""
    measured = [c for c in assessment.candidates if c.ok and c.importance]
    if not measured:
        return None
    lead = next((c for c in measured if c.name == assessment.verdict.recommended), measured[0])
    features = [f["feature"] for f in lead.importance["features"][:TOP_FEATURES]]
    cells = {c.name: {f["feature"]: f for f in c.importance["features"]} for c in measured}
    return {"lead": lead, "candidates": measured, "features": features, "cells": cells,
            "metric": LABELS[lead.importance["metric"]]}


def _importance_figure(table: dict) -> go.Figure:
    fig = go.Figure()
    for c in table["candidates"]:
        rows = [table["cells"][c.name].get(f) for f in table["features"]]
        fig.add_trace(go.Bar(
            y=table["features"], x=[r["drop"] if r else None for r in rows], orientation="h", name=c.display_name,
            error_x=dict(type="data", symmetric=False, array=[(r["high"] - r["drop"]) if r else 0 for r in rows],
                         arrayminus=[(r["drop"] - r["low"]) if r else 0 for r in rows])))
    fig.update_layout(barmode="group", title=f"Permutation importance: drop in {table['metric']} when a column is "
                      "shuffled (test rows)", yaxis=dict(autorange="reversed"), **{**_LAYOUT, "height": 460})
    return fig


def _shown_models(assessment: Assessment) -> list:
    """The recommended model and the best deep one: the two the verdict weighed."""
    names = [assessment.verdict.recommended, assessment.verdict.deep]
    return [c for name in dict.fromkeys(n for n in names if n) for c in assessment.candidates if c.name == name and c.ok]


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
        leaderboard=leaderboard(assessment), shown=_shown_models(assessment), confusion=confusion,
        importance=importance_table(assessment),
        better="lower is better" if assessment.verdict.primary_metric in LOWER_IS_BETTER else "higher is better",
    )


def write_report(assessment: Assessment, instance: Instance, path: Path) -> Path:
    """Write the report atomically to `path` and return it."""
    return write_text_atomic(path, render_report(assessment, instance))

"""`cost project` as one call: options from a file and/or an assessment, projected, rendered, stored."""

from __future__ import annotations

import os

import plotly.graph_objects as go

from depthgauge.cost.catalog import load_catalog
from depthgauge.cost.project import (
    CADENCES,
    CATEGORIES,
    Assumptions,
    CostProjection,
    assumptions_from_assessment,
    options_from_assessment,
    parse_assumptions,
    project,
    read_cost_file,
)
from depthgauge.errors import DepthgaugeError, NotFound
from depthgauge.pages import page, table


def run_cost_projection(file: str | os.PathLike | None = None, from_assessment: str | None = None,
                        volume: str | None = None, retrain: str | None = None, instance: str | None = None,
                        prices: str | os.PathLike | None = None, home: str | os.PathLike | None = None,
                        store: bool = True) -> CostProjection:
    """Return the projection of every option, written as an HTML page and stored in the workspace."""
    catalog = load_catalog(prices)
    base = Assumptions(cost_per_review_usd=catalog.review_cost_usd)
    stored = None
    if from_assessment is not None:
        stored = _stored_assessment(from_assessment, home)
        base = parse_assumptions(assumptions_from_assessment(stored["options"]), None, base)
    assumptions, options = (read_cost_file(file, catalog, base) if file is not None else (base, []))
    overrides = {k: v for k, v in (("monthly_volume", volume), ("retrain", retrain)) if v is not None}
    if overrides.get("retrain") is not None and overrides["retrain"] not in CADENCES:
        raise DepthgaugeError(f"--retrain '{retrain}' is not a cadence. Use one of: {', '.join(CADENCES)}.")
    assumptions = parse_assumptions(overrides, None, assumptions)
    if instance is not None:
        catalog.get(instance)
    if file is None and from_assessment is None:
        raise DepthgaugeError("Nothing to project. Pass a cost FILE (see `depthgauge cost project --help`), "
                              "or --from-assessment ID to price the candidates of a stored assessment.")
    notes = []
    if stored is not None:
        options = [_with_instance(o, instance) for o in stored["measured"]] + options
        notes.append(f"Training time, throughput, p99 latency and review share of the '{from_assessment}' options were "
                     "measured by that assessment on its machine; a different instance runs at a different speed. "
                     "The assumptions start from the terms that assessment priced its candidates under.")
    result = project(options, assumptions, catalog, notes)
    if not store:
        return result
    from depthgauge.files import write_text_atomic
    from depthgauge.govern.records import save_cost_projection
    from depthgauge.store.tables import new_id
    from depthgauge.workspace import Workspace

    result.id = new_id()
    with Workspace.open(home) as workspace:
        result.report_path = workspace.reports_dir / f"cost-{result.id}.html"
        write_text_atomic(result.report_path, render_cost_page(result))
        try:
            save_cost_projection(workspace, result, from_assessment)
        except BaseException:
            result.report_path.unlink(missing_ok=True)
            raise
    return result


def _stored_assessment(assessment_id: str, home) -> dict:
    """Return a stored assessment's options and its candidates as cost options, with their measured figures."""
    from depthgauge.store.tables import AssessmentRow
    from depthgauge.workspace import Workspace, resolve_home

    if not (resolve_home(home) / "depthgauge.db").exists() and not os.environ.get("DEPTHGAUGE_DB_URL"):
        raise DepthgaugeError(f"No workspace at {resolve_home(home)}, so no assessment '{assessment_id}'.")
    with Workspace.open(home) as workspace, workspace.session() as session:
        row = session.get(AssessmentRow, assessment_id)
        if row is None:
            raise NotFound(f"No assessment '{assessment_id}'. List them with: depthgauge assessments list")
        return {"options": dict(row.options), "measured": options_from_assessment(row)}


def _with_instance(option, instance: str | None):
    from dataclasses import replace

    if option.instance is None or instance is None:
        return option
    return replace(option, instance=instance, name=option.name.rsplit(" on ", 1)[0] + f" on {instance}")


def render_cost_page(result: CostProjection) -> str:
    fig = go.Figure()
    for category in CATEGORIES:
        fig.add_trace(go.Bar(name=category.replace("_", " "), x=[o.option.name for o in result.options],
                             y=[o.monthly[category] for o in result.options]))
    fig.update_layout(barmode="stack", title="Monthly cost by category (USD)", template="plotly_white", height=420)
    totals = table(["option", *[c.replace("_", " ") for c in CATEGORIES], "monthly total", "yearly total"],
                   [[o.option.name, *[o.monthly[c] for c in CATEGORIES], o.monthly_total, 12 * o.monthly_total]
                    for o in result.options])
    data = result.to_dict()
    assumptions = table(["assumption", "value"], [[k, v] for k, v in data["assumptions"].items()])
    options = table(["option", "serving on", "USD/hour", "instances at peak", "training hours/run", "throughput rows/s",
                     "USD per 1k calls", "review rate", "source"],
                    [[o.option.name, o.serving_on or "—", o.price_per_hour_usd or "—",
                      o.instances if o.option.instance else "—", o.option.training_hours,
                      o.option.throughput_rows_per_s or "—",
                      o.option.price_per_1k_calls_usd if o.option.price_per_1k_calls_usd is not None else "—",
                      o.option.review_rate if o.option.review_rate is not None else result.assumptions.review_rate,
                      o.option.source]
                     for o in result.options])
    notes = "".join(f"<p class='muted'>{n}</p>" for n in result.notes + [f"{o.option.name}: {n}" for o in result.options
                                                                         for n in o.notes])
    return page("Cost projection", f"Projection {result.id}; prices as of {result.catalog_as_of}",
                [("Monthly and yearly cost (USD)", totals), ("Assumptions", assumptions + notes),
                 ("Options", options)], [fig])

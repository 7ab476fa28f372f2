"""`depthgauge cost project`: monthly and yearly cost by category, several options side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json
from depthgauge.money import usd

cost_app = typer.Typer(help="What running a model will cost, before anyone signs.", no_args_is_help=True)
app.add_typer(cost_app, name="cost")

EXAMPLE = """
Example cost FILE:

  assumptions: {monthly_volume: 2M/month, retrain: weekly, peak_factor: 3, utilisation: 0.5,
                review_rate: 0.02, cost_per_review_usd: 0.4}
  options:
    - {name: trees on CPU, instance: aws.m7i.large, training_hours: 0.05, throughput_rows_per_s: 20000}
    - {name: MLP on GPU, instance: aws.g5.xlarge, training_hours: 0.5, throughput_rows_per_s: 90000}
    - {name: vendor API, price_per_1k_calls_usd: 1.5}
"""


@cost_app.command("project", epilog=EXAMPLE)
def project_command(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, help="YAML with `assumptions:` and `options:` (see below)."),
    from_assessment: Optional[str] = typer.Option(None, help="Add an option per candidate of this stored assessment."),
    volume: Optional[str] = typer.Option(None, help="Prediction volume, e.g. 2M/month or 50k/day."),
    retrain: Optional[str] = typer.Option(None, help="Retraining cadence: never, yearly, quarterly, monthly, weekly, daily."),
    instance: Optional[str] = typer.Option(None, help="Instance for the --from-assessment options (default: the assessment's)."),
    prices: Optional[Path] = typer.Option(None, help="Your own price catalog (YAML)."),
    json_output: bool = typer.Option(False, "--json", help="Print the projection as JSON."),
):
    """Project monthly and yearly cost by category for one or more options, with every assumption shown."""
    from depthgauge.cost.project import CATEGORIES
    from depthgauge.cost.service import run_cost_projection

    result = run_cost_projection(file, from_assessment, volume, retrain, instance, prices, ctx.obj["home"])
    if json_output:
        print_json(result.to_dict())
        return
    out = Console(width=max(Console().width, 150))
    table = Table(title="Monthly cost (USD)")
    table.add_column("option", no_wrap=True)
    for category in CATEGORIES:
        table.add_column(category.replace("_", " "), justify="right")
    table.add_column("month", justify="right", style="bold")
    table.add_column("year", justify="right", style="bold")
    for o in result.options:
        table.add_row(o.option.name, *[usd(o.monthly[c]) for c in CATEGORIES], usd(o.monthly_total),
                      usd(12 * o.monthly_total))
    out.print(table)
    assumed = result.assumptions.review_rate
    shown = {k: v for k, v in result.to_dict()["assumptions"].items() if k != "review_rate"}
    out.print("[bold]Assumptions[/bold]: " + ", ".join(f"{k}={v}" for k, v in shown.items())
              + f", review_rate={assumed} for options that state none", highlight=False, soft_wrap=True)
    for o in result.options:
        review = o.option.review_rate if o.option.review_rate is not None else assumed
        detail = (f"{usd(o.option.price_per_1k_calls_usd, 'per 1,000 calls')}" if o.option.instance is None else
                  f"{o.instances} × {o.serving_on} at {usd(o.price_per_hour_usd, '/ hour')} for the peak, "
                  f"{o.option.throughput_rows_per_s:,.0f} rows/s measured, {o.option.training_hours:.3g} h per training run")
        price = result.assumptions.cost_per_review_usd
        reviewed = (f"{review:.1%} of predictions reviewed at {usd(price)} each" if price else
                    f"{review:.1%} of predictions under the review threshold, review not priced "
                    "(set cost_per_review_usd under assumptions: in a cost FILE)")
        out.print(f"  • {o.option.name}: {detail}, {reviewed} ({o.option.source})", highlight=False, soft_wrap=True)
        for note in o.notes:
            out.print(f"    [dim]{note}[/dim]", highlight=False)
    for note in result.notes:
        out.print(f"[dim]{note}[/dim]")
    out.print(f"Stored as projection {result.id}; page: {result.report_path}")

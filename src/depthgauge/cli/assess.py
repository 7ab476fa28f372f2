"""`depthgauge assess`: baselines and deep models side by side, five dimensions, one verdict."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from depthgauge.assessment.progress import Reporter
from depthgauge.cli.main import app
from depthgauge.cli.render import print_json, stderr_console


class RichReporter(Reporter):
    def __init__(self, progress: Progress, n_candidates: int):
        self.progress = progress
        self.task = progress.add_task("Starting", total=n_candidates)

    def stage(self, text):
        self.progress.update(self.task, description=text)

    def warn(self, text):
        self.progress.console.print(f"[yellow]warning:[/yellow] {text}")

    def candidate_started(self, name, budget_s):
        self.progress.update(self.task, description=f"Training {name} (up to {budget_s:.0f}s)")

    def candidate_finished(self, result):
        status = "" if result.ok else f" [{result.status}]"
        self.progress.console.print(f"  {result.display_name}: {result.fit_seconds:.1f}s{status}")
        self.progress.advance(self.task)


def _ece(risk: dict) -> str:
    """The calibration error before → after calibration on the validation rows, e.g. "0.31→0.04"."""
    before, after = risk.get("calibration_error_raw"), risk.get("calibration_error")
    if after is None:
        return "—"
    return f"{before:.2f}→{after:.2f}" if before is not None else f"{after:.2f}"


def _summary_table(assessment) -> tuple[Table, str]:
    """Return the scorecard and the legend of its columns."""
    from depthgauge.assessment.quality import LABELS
    from depthgauge.money import usd

    metric = assessment.verdict.primary_metric
    valued = assessment.options.get("value") is not None
    table = Table(title="Scorecard (test rows)")
    repeats = assessment.split.get("repeats") or 1
    shown = f" mean of {repeats} splits" if repeats > 1 else ""
    columns = ["candidate", f"{LABELS[metric]}{shown} [95% CI]", "p50 ms", "rows/s", "fit s", "inst.", "ECE",
               "review", "$ / month"] + (["net $ / month", "vs no model"] if valued else [])
    for col in columns:
        table.add_column(col, justify="left" if col == "candidate" else "right", no_wrap=True)
    for c in assessment.candidates:
        if not c.ok:
            table.add_row(c.name, f"[red]{c.status}[/red]", *[""] * (len(columns) - 2))
            continue
        q = c.quality[metric]
        name = c.name + (" (deep)" if c.is_deep else "")
        name = f"[bold]{name}[/bold]" if c.name == assessment.verdict.recommended else name
        review = c.risk.get("review_share")
        if c.family == "endpoint":
            failed = c.params["calls"] - c.params["answered"]
            name += f" [{failed} failed]" if failed else ""
        row = [name, f"{q.value:.4f} [{q.low:.3f}, {q.high:.3f}]", f"{c.operations.latency_p50_ms:.2f}",
               f"{c.operations.throughput_rows_per_s:,.0f}", "—" if c.family == "endpoint" else f"{c.fit_seconds:.1f}",
               "per call" if c.family == "endpoint" else str(c.cost.instances), _ece(c.risk),
               "—" if review is None else f"{review:.1%}",
               usd(c.cost.monthly_total_usd)]
        if valued:
            row += [usd(c.business.get("monthly_net_value_usd")), usd(c.business.get("vs_no_model_usd"))]
        table.add_row(*row)
    terms = assessment.options.get("cost_terms") or {}
    priced = assessment.options.get("review_priced", True)
    review = (f"review: the share of predictions whose calibrated confidence is under "
              f"{assessment.options['review_threshold']:g}, " + (f"sent to a person at {usd(terms.get('review_cost_usd'))} "
                                                                 "each." if priced else "shown, not priced."))
    legend = (f"{metric}: {'the mean over the repeated splits with the corrected resampled interval' if repeats > 1 else 'the test rows, with a bootstrap interval'}. "
              f"inst.: {terms.get('instance')} instances needed at the peak of {terms.get('peak_rows_per_s', 0):,.2f} "
              f"rows/s ({terms.get('peak_factor', 0):g}× the average of {assessment.options['monthly_volume']:,} "
              f"predictions a month) at {terms.get('utilisation', 0):.0%} utilisation. ECE: the expected calibration "
              "error before → after calibration on the validation rows. "
              f"{review} $ / month: the monthly "
              f"cost of ownership, instances, review and {terms.get('retrain_every', 'monthly')} retraining, in US "
              "dollars.")
    if valued:
        legend += (" net $ / month: your --value matrix applied to a month of predictions, acted on at calibrated "
                   "probabilities, minus that cost. vs no model: that net value less what having no model is worth.")
    return table, legend


def _print_money(out: Console, assessment) -> None:
    """Print what the money assumed, the break-even volume and whether the call holds at other volumes."""
    assumed = assessment.options.get("assumed") or []
    if assumed:
        out.print("[bold]Assumed[/bold] (not given; each flag changes it):")
        for a in assumed:
            out.print(f"  {a['assumption']}: {a['value']}  [dim]{a['flag']}[/dim]", highlight=False)
    verdict = assessment.verdict
    if verdict.break_even:
        says = verdict.break_even["says"]
        says = {"always": "none: it is worth more than the simple option at every volume from 1,000 to 10 billion a "
                          "month", "never": "none: it is worth less at every volume from 1,000 to 10 billion a month"
                }.get(says, says)
        out.print(f"Break-even volume of the deep option: {says}.", highlight=False)
    if verdict.holds_at:
        parts = [f"{'holds' if h['holds'] else 'changes'} at {h['volume']:,} a month ({k})"
                 for k, h in verdict.holds_at.items()]
        out.print(f"The recommendation {', and '.join(parts)}.", highlight=False)
    for losing in (verdict.no_model or {}).get("losing") or []:
        out.print(f"[yellow]{losing} is worth less than having no model, net of its cost.[/yellow]", highlight=False)


@app.command()
def assess(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="CSV or Parquet file with one row per example; a folder with one subfolder "
                                          "per class (text files or images); or an .npz file of images and labels."),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="Column to predict. Leave it out to look for "
                                                                       "anomalies; with --kind anomaly it is the label "
                                                                       "column that measures them."),
    kind: Optional[str] = typer.Option(None, help="table, text, image, series, anomaly or graph (default: detected)."),
    horizon: Optional[int] = typer.Option(None, help="Time series: forecast this many steps ahead (needs "
                                                     "--time-column; default 1)."),
    season: Optional[int] = typer.Option(None, help="Time series: steps in one seasonal cycle (default: from the "
                                                    "step, e.g. 7 for daily data)."),
    edges: Optional[Path] = typer.Option(None, help="Graph: CSV edge list (two columns of node ids); DATA is the node "
                                                    "table."),
    node_column: Optional[str] = typer.Option(None, help="Graph: the node id column (default: node, node_id, id, or "
                                                         "the first column)."),
    contamination: Optional[float] = typer.Option(None, help="Anomalies: the expected share of anomalies, where "
                                                             "rows are flagged (default 0.05)."),
    image_size: Optional[int] = typer.Option(None, help="Images: the side in pixels of the square every image is "
                                                        "brought to (shorter side resized, then centre-cropped); "
                                                        "default: kept when all share a size, else the median "
                                                        "shorter side within 16-64."),
    task: Optional[str] = typer.Option(None, help="binary, multiclass or regression (default: detected)."),
    time_budget: str = typer.Option("5m", help="Bound on the whole assessment, e.g. 90s, 5m, 1h."),
    volume: str = typer.Option("1000000/month", help="Prediction volume for the monthly cost, e.g. 50k/day."),
    instance: str = typer.Option("aws.m7i.large", help="Instance type from the price catalog."),
    prices: Optional[Path] = typer.Option(None, help="Your own price catalog (YAML)."),
    value: Optional[str] = typer.Option(None, help="Value matrix, e.g. tp=40,fp=-5,fn=-60,tn=0 (regression: error=-2)."),
    sensitive: Optional[str] = typer.Option(None, help="Column whose groups are compared for gaps in error rates."),
    time_column: Optional[str] = typer.Option(None, help="Split by time on this column (oldest rows train)."),
    group_column: Optional[str] = typer.Option(None, help="Keep each group of this column in one split."),
    drop: List[str] = typer.Option([], "--drop", help="Leave a column out (repeatable)."),
    keep: List[str] = typer.Option([], "--keep", help="Use a column that looks like an identifier as a feature "
                                                      "(repeatable)."),
    positive: Optional[str] = typer.Option(None, help="Positive class of a binary target (default: the rarer class)."),
    metric: Optional[str] = typer.Option(None, help="Primary metric for the verdict (default: roc_auc, accuracy or rmse)."),
    min_effect: Optional[float] = typer.Option(None, help="Smallest difference in the primary metric worth acting on "
                                                          "(default: 1% of the best simple model's score, or the "
                                                          "break-even gain of --value)."),
    repeats: int = typer.Option(5, help="Tables: train and score every candidate on this many splits, when the budget "
                                        "allows (always under 20,000 rows); 1 for a single split."),
    max_extra_cost: float = typer.Option(100.0, help="Without --value: the most dollars a month a significant deep "
                                                     "win may cost to own beyond the simple model."),
    review_threshold: Optional[float] = typer.Option(None, help="Price human review of the predictions whose "
                                                                 "calibrated confidence is under this (default: not "
                                                                 "priced; the share under 0.6 is shown)."),
    review_cost: Optional[float] = typer.Option(None, help="Price human review at these dollars of labour per reviewed "
                                                           "prediction (default: not priced; when --review-threshold "
                                                           "is given, the price catalog's $0.50)."),
    peak_factor: float = typer.Option(3.0, help="The busiest hour's prediction rate over the month's average; "
                                                "instances are sized for it."),
    utilisation: float = typer.Option(0.5, help="Share of an instance's measured throughput to plan for at peak."),
    min_instances: int = typer.Option(1, help="Instances kept on however quiet it is."),
    retrain_every: str = typer.Option("monthly", help="Retraining cadence priced into the monthly cost: never, "
                                                      "yearly, quarterly, monthly, weekly or daily."),
    latency_slo: Optional[float] = typer.Option(None, help="p99 single-row latency in ms a deep model must meet; "
                                                           "one that misses it on CPU is priced on a GPU instance."),
    seed: int = typer.Option(0, help="Seed for the split, bootstrap and training."),
    encoding: Optional[str] = typer.Option(None, help="Text encoding of a CSV that is not UTF-8."),
    name: Optional[str] = typer.Option(None, "--name", help="Register every trained candidate as a version of this model."),
    executor: str = typer.Option("local", help="'local' trains candidates one after another; 'ray' trains them in "
                                                "parallel as Ray tasks (a local Ray unless --ray-address)."),
    ray_address: Optional[str] = typer.Option(None, help="Address of a running Ray cluster, e.g. ray://head:10001."),
    workers: int = typer.Option(1, help="Train the MLP data-parallel with Ray Train on this many processes "
                                        "(DDP, gloo on CPU)."),
    tune: int = typer.Option(0, help="Ray Tune trials per tuned family (LightGBM, MLP), within half the fitting time; "
                                     "0 for none."),
    endpoint: List[Path] = typer.Option([], "--endpoint", help="A vendor endpoint spec (YAML) to put on the same "
                                                             "leaderboard (repeatable); see `depthgauge probe --example`."),
    allow_leaky: bool = typer.Option(False, "--allow-leaky", help="Give a verdict even when the data looks leaky "
                                                                  "(the warning is kept)."),
    json_output: bool = typer.Option(False, "--json", help="Print the whole assessment as JSON on stdout."),
):
    """Train simple baselines and deep models side by side and say whether deep learning is worth it."""
    from depthgauge.assessment.options import DataOptions, DecisionOptions, RunOptions
    from depthgauge.assessment.runner import run_assessment
    from depthgauge.endpoint.candidate import endpoint_candidates

    data_options = DataOptions(target, task, kind, time_column, group_column, tuple(drop), positive, sensitive,
                               encoding, str(edges) if edges else None, node_column, horizon, season, contamination,
                               tuple(keep), image_size)
    run = RunOptions(time_budget=time_budget, seed=seed, executor=executor, ray_address=ray_address, tune=tune,
                     workers=workers, repeats=repeats)
    decision = DecisionOptions(metric=metric, volume=volume, instance=instance, prices=str(prices) if prices else None,
                               value=value, max_extra_cost=max_extra_cost, review_threshold=review_threshold,
                               review_cost=review_cost, peak_factor=peak_factor, utilisation=utilisation,
                               min_instances=min_instances, retrain_every=retrain_every, latency_slo=latency_slo,
                               endpoints=tuple(str(e) for e in endpoint), allow_leaky=allow_leaky,
                               min_effect=min_effect)
    console = stderr_console()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        result = run_assessment(data, data_options, run, decision, home=ctx.obj["home"], name=name,
                                reporter=RichReporter(progress, 5), external=endpoint_candidates(endpoint))
    if json_output:
        print_json(result.to_dict())
        return
    out = Console(width=max(Console().width, 130))  # the data warnings were printed before training started
    out.print("[bold]In short[/bold]")
    for line in result.verdict.summary:
        out.print(f"  {line}", highlight=False)
    out.print()
    table, legend = _summary_table(result)
    out.print(table)
    out.print(f"[dim]{legend}[/dim]", highlight=False)
    _print_money(out, result)
    call = result.verdict.call.replace("_", " ")
    out.print(f"\n[bold]Verdict ({call}):[/bold] {result.verdict.headline}\n")
    verdict = result.verdict
    if verdict.split_differences:
        won = verdict.splits_won
        out.print(f"Repeated splits: {len(verdict.split_differences)}; deep won {won['deep']}, simple won "
                  f"{won['simple']}; stability {verdict.stability:.0%} (see the report's per-split scores).")
    elif result.split.get("repeats_note"):
        out.print(result.split["repeats_note"])
    out.print(f"Assessment {result.id} stored; report: {result.report_path}")
    if result.registered:
        out.print(f"Registered {', '.join(result.registered)}; {name}@candidate is the recommended one. "
                  f"See: depthgauge models list")

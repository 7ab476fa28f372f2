"""`depthgauge monitor [MODEL]`: drift, live quality, operations, cost, business impact and alerts, on demand."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json
from depthgauge.money import usd


def _number(value, digits: int = 3, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}g}{suffix}"


def _interval(item: dict | None) -> str:
    if not item:
        return "—"
    return f"{item['value']:.4f} [{item['low']:.4f}, {item['high']:.4f}]"


def _render(report: dict, out: Console) -> None:
    window = report["window"]
    out.print(f"[bold]{report['ref']}[/bold] ({report['family']}) · {window['spec']}: {window['predictions']:,} "
              f"predictions" + (f" from {window['from'][:19]} to {window['to'][:19]}" if window["from"] else ""))
    drift = report["drift"]
    if drift["status"] != "measured":
        out.print(f"drift: {drift['reason']}")
    else:
        out.print(f"drift score {drift['score']:.3f} · drifted: {', '.join(drift['drifted_features']) or 'none'} · "
                  f"predictions PSI {drift['predictions']['psi']:.3f}"
                  + (" (drifted)" if drift["predictions"]["drifted"] else ""))
        whole = drift.get("whole_input") or {}
        if whole.get("status") == "measured":
            out.print(f"whole input (classifier two-sample test): ROC-AUC {whole['auc']:.3f}, p {whole['p_value']:.3g}"
                      + (" [red](drifted)[/red] driven by " + ", ".join(d["feature"] for d in whole["drivers"])
                         if whole["drifted"] else " (no drift)"))
        elif whole:
            out.print(f"whole input: {whole['reason']}")
        if drift.get("unseen_categories"):
            out.print("categories never seen in training: " + ", ".join(
                f"{name} {share:.1%} of predictions" for name, share in drift["unseen_categories"].items()))
        table = Table("feature", "test", "p-value", "PSI", "JS distance", "drifted")
        for name, f in list(drift["features"].items())[:10]:
            table.add_row(name, f["test"], _number(f["p_value"], 2), f"{f['psi']:.3f}", _number(f["js_distance"]),
                          "[red]yes[/red]" if f["drifted"] else "no")
        out.print(table)
    q = report["quality"]
    live = q["live"]
    out.print(f"quality ({q['metric']}): holdout {_interval(q['holdout'])} · live "
              + (f"{live['metric']} {_interval(live)} on {q['labeled']:,} labels" if live else
                 f"no estimate ({q['labeled']} labels; send them with POST /v1/feedback or review decisions)")
              + (f" · FPR {_number(q['false_positive_rate'])} FNR {_number(q['false_negative_rate'])}"
                 if q.get("false_positive_rate") is not None else ""))
    estimated = q.get("estimated")
    if estimated:
        out.print(f"estimated without labels ({estimated['metric']}, {estimated['method']}): "
                  f"{_interval(estimated)} on {estimated['rows']:,} predictions"
                  + (f" · worse than the holdout interval by {estimated['shortfall']:.4f}" if estimated["shortfall"] else "")
                  + (f" · labels {estimated['labels']}" if estimated.get("labels") else ""))
        if estimated.get("disagreement"):
            out.print(f"[red]{estimated['disagreement']}[/red]")
        out.print(f"[dim]{estimated['note']}[/dim]")
    o = report["operations"]
    out.print(f"operations: latency p50/p95/p99 {_number(o['latency_p50_ms'])}/{_number(o['latency_p95_ms'])}/"
              f"{_number(o['latency_p99_ms'])} ms · {_number(o['throughput_per_s'])} predictions/s · error rate "
              f"{_number(o['error_rate'])} · review rate {_number(o['review_rate'])}")
    c = report["cost"]
    out.print(f"cost on {c['instance']}: {usd(c['cost_per_1k_at_observed_traffic_usd'], 'per 1,000')} at the observed "
              f"traffic ({usd(c['cost_per_1k_at_capacity_usd'])} at capacity) · "
              f"{usd(c['monthly_run_rate_usd'], '/ month')} per instance")
    b = report["business"]
    out.print("business impact: " + (f"{usd(b['net_value_per_1k'])} net value per 1,000 predictions on "
                                      f"{b['labeled']:,} labeled" if b["net_value_per_1k"] is not None else
                                      "needs a value matrix (assess --value) and labeled traffic"))
    if report["alerts"]:
        for alert in report["alerts"]:
            colour = {"critical": "red", "warning": "yellow"}.get(alert["severity"], "cyan")
            out.print(f"[{colour}]ALERT {alert['severity']}[/{colour}] {alert['rule']}: {alert['message']}"
                      + (f" (webhook: {alert['delivery']})" if alert["delivery"] != "none" else ""))
    else:
        out.print("alerts: none firing")


@app.command()
def monitor(
    ctx: typer.Context,
    model: Optional[str] = typer.Argument(None, help="NAME (its deployed version), NAME:VERSION or NAME@ALIAS; "
                                                     "every deployed model when left out."),
    window: Optional[str] = typer.Option(None, help="Predictions to look at: a count (10000, the default) or a span "
                                                    "(30m, 24h, 7d)."),
    rules: Optional[str] = typer.Option(None, help="Alert rules YAML (default: the workspace's alerts.yaml, else the "
                                                   "built-in rules)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Measure drift, live quality, latency, cost and business impact from the prediction log; fire alerts."""
    from depthgauge.monitor.profiles import parse_window
    from depthgauge.monitor.service import run_monitor
    from depthgauge.registry.api import existing_workspace

    parse_window(window or "10000")
    with existing_workspace(ctx.obj["home"]) as workspace:
        reports = run_monitor(workspace, [model] if model else None, window, rules)
    if json_output:
        print_json(reports)
        return
    if not reports:
        typer.echo("Nothing is deployed, so there is nothing to monitor. Deploy a model with: "
                   "depthgauge serve --deploy NAME@candidate (or POST /v1/models/NAME/deploy).")
        return
    out = Console(width=max(Console().width, 110))
    for report in reports:
        _render(report, out)


@app.command()
def retrain(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Registered model name; its production (else deployed) version is the champion."),
    data: str = typer.Option(..., help="New labeled data (CSV or Parquet) with the champion's columns and target."),
    include_feedback: bool = typer.Option(False, "--include-feedback",
                                          help="Add the labeled production traffic (feedback and review labels)."),
    time_budget: str = typer.Option("2m", help="Time for the challenger's training (e.g. 90s, 5m)."),
    seed: Optional[int] = typer.Option(None, help="Split and training seed (default: the champion's)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Retrain a challenger and promote it only if it is measurably better, or no worse and cheaper."""
    from depthgauge.monitor.retrain import retrain as run_retrain
    from depthgauge.registry.api import existing_workspace

    with existing_workspace(ctx.obj["home"]) as workspace:
        result = run_retrain(workspace, model, data, include_feedback, time_budget, seed)
    if json_output:
        print_json(result)
        return
    c = result["comparison"]
    typer.echo(f"{result['challenger']} (challenger) vs {result['champion']} (champion) on {c['holdout_rows']:,} fresh "
               f"holdout rows: {c['metric']} {c['challenger']['value']:.4f} vs {c['champion']['value']:.4f}, "
               f"difference {c['delta']['value']:+.4f} (95% CI {c['delta']['low']:+.4f} to {c['delta']['high']:+.4f}); "
               f"{usd(c['monthly_cost_usd']['challenger'], '/ month')} vs "
               f"{usd(c['monthly_cost_usd']['champion'], '/ month')} to own.")
    if result["decision"] == "promote":
        typer.echo(f"Promoted {result['challenger']} to production: {result['why']}."
                   + (" Serving follows." if result["deployed"] else ""))
    else:
        typer.echo(f"Kept {result['champion']}: {result['why']}. {result['challenger']} is registered as @candidate.")


@app.command()
def rollback(ctx: typer.Context, model: str = typer.Argument(..., help="Registered model name."),
             json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Return production (and serving) to the previous production version."""
    from depthgauge.monitor.retrain import rollback as run_rollback
    from depthgauge.registry.api import existing_workspace

    with existing_workspace(ctx.obj["home"]) as workspace, workspace.transaction() as session:
        result = run_rollback(session, model)
    if json_output:
        print_json(result)
        return
    typer.echo(f"Rolled {model} back from {result['from']} to {result['to']}."
               + (" Serving follows within seconds." if result["deployed"] else ""))


@app.command()
def replay(
    ctx: typer.Context,
    candidate: str = typer.Argument(..., help="The version to try: NAME:VERSION or NAME@ALIAS."),
    against: str = typer.Option(..., "--against", help="The version whose logged traffic is replayed, usually "
                                                       "NAME@production."),
    window: Optional[str] = typer.Option(None, help="Traffic to replay: a span (7d, 24h) or a count of predictions "
                                                    "(default: the policy's window)."),
    policy: Optional[str] = typer.Option(None, help="Replay policy YAML (default: the workspace's replay.yaml, else "
                                                    "the built-in policy)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Score a candidate on the inputs production logged and gate it: pass, fail or review. Exit code 1 unless it
    passes, so a pipeline can stop on it."""
    from depthgauge.monitor.replay import load_policy, policy_path
    from depthgauge.monitor.replay import replay as run_replay
    from depthgauge.registry.api import existing_workspace

    if window is not None:
        from depthgauge.monitor.profiles import parse_window

        parse_window(window)
    with existing_workspace(ctx.obj["home"]) as workspace:
        report = run_replay(workspace, candidate, against, load_policy(policy_path(workspace.home, policy)), window)
    if json_output:
        print_json(report)
    else:
        _render_replay(report, Console(width=max(Console().width, 110)))
    if report["gate"]["outcome"] != "pass":
        raise typer.Exit(1)


def _render_replay(report: dict, out: Console) -> None:
    out.print(f"[bold]{report['candidate']}[/bold] replayed on {report['rows']:,} logged predictions of "
              f"{report['production']} ({report['window']})"
              + (f"; redacted in the log, replayed as missing: {', '.join(report['redacted_columns'])}"
                 if report["redacted_columns"] else ""))
    agreement = report["agreement"]
    if agreement:
        out.print(f"agreement with production: {agreement['share']:.1%} ({agreement['rule']})")
    estimated = report["estimated"]
    if estimated:
        out.print(f"estimated {estimated['metric']} without labels: candidate {_interval(estimated['candidate'])} · "
                  f"production {_interval(estimated['production'])} · difference {estimated['difference']:+.4f}")
    labelled = report["labelled"]
    if labelled:
        out.print(f"labelled {labelled.get('metric', 'quality')}: " + (
            f"candidate - production {_interval(labelled['delta'])} on {labelled['labels']:,} labels (paired bootstrap)"
            if labelled["delta"] else f"{labelled['labels']} labels, too few to compare"))
    latency = report["latency"]
    if latency:
        out.print("latency per row: " + " · ".join(f"{name} p50 {v['p50_ms']:.2f} ms, p99 {v['p99_ms']:.2f} ms"
                                                   for name, v in latency.items()))
    monthly = report["cost"]["monthly_usd"]
    out.print(f"cost per month: candidate {usd(monthly['candidate'])} · production {usd(monthly['production'])}")
    gate = report["gate"]
    colour = {"pass": "green", "fail": "red"}.get(gate["outcome"], "yellow")
    out.print(f"[{colour}]gate: {gate['outcome'].upper()}[/{colour}]" + (
        "".join(f"\n  - {reason}" for reason in gate["reasons"])) + f"\n[dim]policy: {gate['policy']}[/dim]")

"""`depthgauge models list|show|promote|approve|archive|delete|card|export|policy`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json
from depthgauge.money import usd

models_app = typer.Typer(help="The model registry: versions, aliases, approvals, model cards.", no_args_is_help=True)
app.add_typer(models_app, name="models")
REF_HELP = "NAME, NAME@ALIAS or NAME:VERSION (a bare NAME means @production, else the latest version)."
JSON = typer.Option(False, "--json", help="Print JSON.")


def _api():
    """The registry's API, imported on first use so that `depthgauge --help` stays fast."""
    from depthgauge.registry import api

    return api


def _done(data, json_output: bool, message: str) -> None:
    if json_output:
        print_json(data)
    else:
        typer.echo(message)


@models_app.command("list")
def list_command(ctx: typer.Context, json_output: bool = JSON):
    """List registered models and their versions."""
    models = _api().list_models(ctx.obj["home"])
    if json_output:
        print_json(models)
        return
    if not models:
        typer.echo("No models registered. Run: depthgauge assess DATA --target COL --name NAME")
        return
    table = Table("version", "family", "aliases", "approved", "status", "quality", "cost / month")
    for model in models:
        for v in model["versions"]:
            quality = ", ".join(f"{k} {val:.3f}" for k, val in list(v["quality"].items())[:2] if val is not None)
            cost = v["monthly_cost_usd"]
            table.add_row(v["ref"], v["family"] + (" (deep)" if v["deep"] else ""), ", ".join(v["aliases"]),
                          "yes" if v["approved"] else "no", v["status"], quality, usd(cost))
    Console(width=max(Console().width, 120)).print(table)


@models_app.command("show")
def show_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP), json_output: bool = JSON):
    """Show one version: lineage, scorecard, input schema, approvals and history."""
    detail = _api().show(ref, ctx.obj["home"])
    if json_output:
        print_json(detail)
        return
    out = Console()
    out.print(f"[bold]{detail['ref']}[/bold] {detail['family']}{' (deep)' if detail['deep'] else ''} · "
              f"{detail['status']} · aliases: {', '.join(detail['aliases']) or 'none'} · "
              f"approved: {detail['approved_by'] or 'no'}")
    out.print("quality: " + ", ".join(f"{k} {v:.4f}" for k, v in detail["quality"].items() if v is not None))
    lineage = detail["lineage"]
    out.print(f"lineage: dataset {lineage['dataset_fingerprint'][:16]}…, split {lineage['split']['method']} "
              f"seed {lineage['split']['seed']}, {lineage['code_version']}, by {detail['created_by']}")
    out.print("inputs: " + ", ".join(f"{c['name']} ({c['type']})" for c in detail["input_schema"]["columns"]))
    for event in detail["history"]:
        out.print(f"  {event['at'][:19]} {event['by']}: {event['action']}" + (f" — {event['note']}" if event["note"] else ""))


@models_app.command("approve")
def approve_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP),
                    note: str = typer.Option(..., help="Why this version is fit for use."), json_output: bool = JSON):
    """Approve a version (who, when and your note are recorded)."""
    result = _api().approve(ref, note, ctx.obj["home"])
    _done(result, json_output, f"Approved {result['ref']} as {result['approved_by']}.")


@models_app.command("promote")
def promote_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP),
                    to: str = typer.Option("production", "--to", help="candidate, staging or production."),
                    reviewed: Optional[str] = typer.Option(None, help="When the replay gate asks for review: what "
                                                           "you checked (recorded in the audit log)."),
                    json_output: bool = JSON):
    """Move an alias (default: production) to a version. Production needs an approved version by default, and a
    passed replay gate when the workspace's replay.yaml says required_for_production: true."""
    from depthgauge.monitor.replay import gate_promotion

    with _api().existing_workspace(ctx.obj["home"]) as workspace:
        replayed = gate_promotion(workspace, ref, to, reviewed)
    result = _api().promote(ref, to, ctx.obj["home"])
    if replayed is not None:
        result["replay"] = {"outcome": replayed["gate"]["outcome"], "reasons": replayed["gate"]["reasons"],
                            "rows": replayed["rows"], "against": replayed["production"]}
    _done(result, json_output, f"{result['ref']} is now @{to}." + (
        f" Replay gate: {replayed['gate']['outcome']} on {replayed['rows']:,} logged predictions of "
        f"{replayed['production']}." if replayed else ""))


@models_app.command("archive")
def archive_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP), json_output: bool = JSON):
    """Archive a version: kept for the record, no longer promotable."""
    result = _api().archive(ref, ctx.obj["home"])
    _done(result, json_output, f"Archived {result['ref']}.")


@models_app.command("delete")
def delete_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP),
                   yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."), json_output: bool = JSON):
    """Delete a version's record (a @production version cannot be deleted)."""
    if not yes and not typer.confirm(f"Delete {ref}?"):
        raise typer.Abort()
    deleted = _api().delete(ref, ctx.obj["home"])
    _done({"deleted": deleted}, json_output, f"Deleted {deleted}.")


@models_app.command("card")
def card_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP),
                 out: Optional[Path] = typer.Option(None, help="Folder for the card (default: the workspace's cards/)."),
                 json_output: bool = JSON):
    """Write the model card as Markdown and HTML."""
    markdown, html_path = _api().write_model_card(ref, ctx.obj["home"], out)
    _done({"markdown": str(markdown), "html": str(html_path)}, json_output, f"Wrote {markdown} and {html_path}.")


@models_app.command("export")
def export_command(ctx: typer.Context, ref: str = typer.Argument(..., help=REF_HELP),
                   to: Path = typer.Option(..., "--to", help="A new or empty folder to write the export into."),
                   fmt: str = typer.Option("folder", "--format", help="'folder': the artifact, its input schema and "
                                           "model card, loadable with depthgauge.load_model(DIR). 'onnx': model.onnx, "
                                           "one graph of preprocessing and model (linear, LightGBM, MLP), for "
                                           "onnxruntime. 'mlflow': an MLflow pyfunc model folder for "
                                           "mlflow.pyfunc.load_model."),
                   json_output: bool = JSON):
    """Export a version to a folder that needs no workspace: plain depthgauge, ONNX, or MLflow pyfunc."""
    from depthgauge.registry.export import export_model

    written = export_model(ref, to, fmt, ctx.obj["home"])
    _done(written, json_output, f"Exported {written['ref']} ({written['family']}) as {fmt} to {written['to']} "
                                f"({len(written['files'])} files).")


@models_app.command("policy")
def policy_command(ctx: typer.Context,
                   require_approval: bool = typer.Option(..., "--require-approval/--no-require-approval",
                                                         help="Whether production needs an approved version.")):
    """Set the workspace's approval policy (on by default)."""
    _api().set_policy(require_approval, ctx.obj["home"])
    typer.echo(f"Approval before production is now {'required' if require_approval else 'not required'}.")

"""`depthgauge genai`: groundedness and hallucination rate of a generative feature's answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json, stderr_console

genai_app = typer.Typer(help="Measure generated answers: grounded-answer and hallucination rates, with review.",
                        no_args_is_help=True)
app.add_typer(genai_app, name="genai")


def _rate(interval: dict | None) -> str:
    if not interval:
        return "—"
    return f"{interval['value']:.1%} [{interval['low']:.1%}, {interval['high']:.1%}]"


@genai_app.command("eval")
def evaluate(
    ctx: typer.Context,
    answers: Path = typer.Argument(..., help="JSONL: one object per line with question, answer, contexts (a list of "
                                             "strings) and optionally reference."),
    feature: Optional[str] = typer.Option(None, help="The generative feature's name (default: the file's name)."),
    labels: Optional[Path] = typer.Option(None, help="JSONL of labeled sentences (sentence, contexts, supported) to "
                                                     "calibrate the threshold on (default: the set shipped with "
                                                     "depthgauge, plus your reviewers' decisions)."),
    threshold: Optional[float] = typer.Option(None, help="Support threshold from 0 to 1 instead of calibrating one."),
    show: int = typer.Option(20, help="Unsupported sentences to list (all are in --json and the review queue)."),
    json_output: bool = typer.Option(False, "--json", help="Print the evaluation as JSON."),
):
    """Check every answer sentence against its contexts; queue the unsupported ones for human review."""
    from depthgauge.genai.service import evaluate as run

    name = feature or re.sub(r"[^A-Za-z0-9_.-]", "-", answers.stem)[:64]
    with stderr_console().status("Scoring answer sentences against their contexts"):
        result = run(answers, name, labels=labels, threshold=threshold, home=ctx.obj["home"])
    if json_output:
        print_json(result)
        return
    summary, calibration = result["summary"], result["calibration"]
    out = Console(width=max(Console().width, 110))
    table = Table(title=f"Generative feature '{name}': {summary['answers']} answers, {summary['sentences']} sentences")
    table.add_column("measure")
    table.add_column("value [95% CI]", justify="right")
    table.add_row("hallucination rate (answers with an unsupported sentence)", _rate(summary["hallucination_rate"]))
    table.add_row("grounded-answer rate", _rate(summary["grounded_answer_rate"]))
    table.add_row("unsupported sentences", _rate(summary["unsupported_sentence_share"]))
    if summary["correctness"]:
        c = summary["correctness"]
        table.add_row(f"similarity to reference ({c['n']} answers)",
                      f"{c['similarity']['value']:.3f} [{c['similarity']['low']:.3f}, {c['similarity']['high']:.3f}]")
        table.add_row("token F1 against reference",
                      f"{c['token_f1']['value']:.3f} [{c['token_f1']['low']:.3f}, {c['token_f1']['high']:.3f}]")
    out.print(table)
    accuracy = calibration["balanced_accuracy"]
    out.print(f"Support threshold {result['threshold']:.3f}, calibrated on {calibration['source']}"
              + (f" (balanced accuracy there {accuracy:.1%})." if accuracy == accuracy else "."))
    if summary["empty_answers"]:
        out.print(f"[yellow]{summary['empty_answers']} answer(s) had no sentence to check and are left out of the rates.[/yellow]")
    for item in result["unsupported"][:show]:
        out.print(f"• [bold]{item['sentence']}[/bold]\n  [dim]answer {item['answer']}: {item['reason']}; closest context: "
                  f"{item['evidence'][:160]}[/dim]")
    if result["unsupported"]:
        out.print(f"{len(result['unsupported'])} unsupported sentence(s) are in the review queue (/reviews, or "
                  f"GET /v1/reviews?model=genai:{name}); reviewers' decisions replace the detector's in the rates.")
    out.print(f"Evaluation {result['id']} stored.")


@genai_app.command("list")
def list_features(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print the evaluations as JSON."),
):
    """Show the latest evaluation of every generative feature, with reviewers' decisions applied."""
    from depthgauge.genai.service import list_latest

    rows = list_latest(ctx.obj["home"])
    if json_output:
        print_json(rows)
        return
    if not rows:
        Console().print("No generative feature evaluated yet: depthgauge genai eval answers.jsonl --feature NAME")
        return
    table = Table(title="Generative features (latest evaluation)")
    for col in ("feature", "evaluated", "answers", "hallucination rate", "grounded", "reviewed"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["feature"], row["at"].strftime("%Y-%m-%d %H:%M"), str(row["answers_with_claims"]),
                      _rate(row["hallucination_rate"]), _rate(row["grounded_answer_rate"]), str(row["reviewed"]))
    Console(width=max(Console().width, 110)).print(table)

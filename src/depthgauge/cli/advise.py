"""`depthgauge advise`: which approach fits, and should deep learning wait?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.prompt import Prompt

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json


def _prompt(console: Console):
    def ask(key: str, prompt: str, choices: list[str]) -> str:
        return Prompt.ask(f"[bold]{prompt}[/bold]", choices=choices, console=console)
    return ask


@app.command()
def advise(
    ctx: typer.Context,
    answers: Optional[Path] = typer.Option(None, "--answers", help="YAML file of question: answer."),
    answer: List[str] = typer.Option([], "--answer", help="One answer as question=value (repeatable)."),
    data: Optional[Path] = typer.Option(None, "--data", help="A CSV or Parquet file to fill the data questions from."),
    target: Optional[str] = typer.Option(None, "--target", help="With --data: the label column, to count labels."),
    interactive: bool = typer.Option(False, "--interactive", help="Ask for missing answers even when input is piped."),
    no_input: bool = typer.Option(False, "--no-input", help="Never ask; a missing answer is an error."),
    json_output: bool = typer.Option(False, "--json", help="Print the advice as JSON."),
):
    """Recommend an approach (rules, classic ML, pretrained API, RAG, fine-tuning, custom deep model, hybrid)."""
    from depthgauge.advice.service import give_advice, parse_answer_flags

    console = Console(stderr=True)
    ask = _prompt(console) if (interactive or sys.stdin.isatty()) and not no_input else None
    result, advice_id = give_advice(parse_answer_flags(answer), answers, data, target, ask, ctx.obj["home"])
    if json_output:
        print_json({"id": advice_id, **result.to_dict()})
        return
    out = Console()
    out.print(f"\n[bold]Recommended: {result.title}[/bold] ({result.approach})")
    out.print(result.why)
    out.print("\n[bold]Because you answered[/bold]")
    for step in result.path:
        out.print(f"  • {step.prompt} [cyan]{step.answer}[/cyan]")
    if result.signals:
        out.print("\n[bold yellow]Postpone or skip deep learning[/bold yellow]")
        for signal in result.signals:
            out.print(f"  • {signal}")
    if result.architecture:
        out.print(f"\n[bold]Architecture family:[/bold] {result.architecture['family']} — {result.architecture['caveat']}")
    out.print("\n[bold]Risks[/bold]")
    for risk in result.risks:
        out.print(f"  • {risk}")
    out.print(f"\n[bold]Next:[/bold] {result.next_command}")
    out.print(f"[dim]Stored as advice {advice_id}.[/dim]")

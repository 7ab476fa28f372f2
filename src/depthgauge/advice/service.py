"""`advise` as one call: gather answers (file, flags, data profile, prompts), walk the tree, store the advice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from depthgauge.advice.tree import Advice, advise, answers_from_data, check_answers, load_tree, read_answers_file
from depthgauge.errors import DepthgaugeError


def parse_answer_flags(flags: list[str]) -> dict[str, str]:
    """Return answers from `--answer key=value` flags."""
    answers = {}
    for flag in flags:
        key, sep, value = flag.partition("=")
        if not sep or not key.strip():
            raise DepthgaugeError(f"--answer '{flag}' is malformed. Write it as question=answer, e.g. --answer data_type=text.")
        answers[key.strip()] = value.strip()
    return answers


def give_advice(answers: dict | None = None, answers_file: str | os.PathLike | None = None,
                data: str | os.PathLike | None = None, target: str | None = None,
                ask: Callable[[str, str, list[str]], str] | None = None, home: str | os.PathLike | None = None,
                store: bool = True) -> tuple[Advice, str | None]:
    """Return the advice and the id it is stored under. Answers: data profile < file < explicit answers."""
    tree = load_tree()
    gathered: dict[str, str] = {}
    if data is not None:
        gathered.update(answers_from_data(Path(data), target))
    elif target is not None:
        raise DepthgaugeError("--target only makes sense with --data (it counts the labels in that file).")
    if answers_file is not None:
        gathered.update(read_answers_file(answers_file, tree))
    gathered.update(check_answers(answers or {}, tree))
    advice = advise(gathered, ask=ask, tree=tree)
    advice_id = None
    if store:
        from depthgauge.govern.records import save_advice
        from depthgauge.workspace import Workspace

        with Workspace.open(home) as workspace:
            advice_id = save_advice(workspace, advice)
    return advice, advice_id

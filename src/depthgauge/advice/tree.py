"""Walk the decision tree in `tree.yaml` with the user's answers and return the advice.

The tree is data; this module only checks it, walks it and explains the path it took.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from depthgauge.errors import DepthgaugeError
from depthgauge.yamlfile import read_yaml

TREE = Path(__file__).parent / "tree.yaml"
DEEP_APPROACHES = {"custom_deep", "fine_tune", "hybrid_rag"}
APPROACHES = ("rules", "classic_ml", "pretrained_api", "rag", "fine_tune", "custom_deep", "hybrid_rag")


@dataclass
class Step:
    question: str
    prompt: str
    answer: str


@dataclass
class Advice:
    approach: str
    title: str
    why: str
    leaf: str
    path: list[Step]
    signals: list[str]
    risks: list[str]
    architecture: dict | None
    next_command: str
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def deep_learning_advised(self) -> bool:
        return self.approach in DEEP_APPROACHES

    def to_dict(self) -> dict:
        return {**asdict(self), "deep_learning_advised": self.deep_learning_advised}


def _branch(node: dict, answer: str) -> str:
    for key, target in node["branches"].items():
        if answer in str(key).split("|"):
            return target
    raise KeyError(answer)


def load_tree(path: Path = TREE) -> dict:
    """Return the tree after checking that every branch leads somewhere and every answer is covered."""
    tree = yaml.safe_load(path.read_text())
    questions, nodes, leaves = tree["questions"], tree["nodes"], tree["leaves"]
    for question in questions.values():  # YAML reads a bare yes/no as a boolean; the tree means the words
        question["choices"] = [_normalise(c) for c in question["choices"]]
    for node in nodes.values():
        node["branches"] = {_normalise(k) if isinstance(k, bool) else str(k): v for k, v in node["branches"].items()}
    for signal in tree["signals"]:
        signal["when"] = {k: [_normalise(v) for v in vs] for k, vs in signal["when"].items()}
    for name, node in nodes.items():
        choices = [str(c) for c in questions[node["ask"]]["choices"]]
        covered = [a for key in node["branches"] for a in str(key).split("|")]
        if sorted(covered) != sorted(choices):
            raise ValueError(f"node {name}: branches {covered} do not cover the choices {choices} exactly")
        for target in node["branches"].values():
            kind, _, ref = target.partition(":") if target.startswith("leaf:") else ("node", "", target)
            if (kind == "leaf" and ref not in leaves) or (kind == "node" and ref not in nodes):
                raise ValueError(f"node {name} points at unknown {kind} {ref or target}")
    for name, leaf in leaves.items():
        if leaf["approach"] not in APPROACHES:
            raise ValueError(f"leaf {name} has unknown approach {leaf['approach']}")
    return tree


def _normalise(value) -> str:
    if isinstance(value, bool):  # YAML reads yes/no as booleans
        return "yes" if value else "no"
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def check_answers(answers: dict, tree: dict, where: Callable[[str], str] | None = None) -> dict[str, str]:
    """Return the answers normalised, or raise naming the unknown question or value and what is allowed."""
    where = where or (lambda key: f"answer '{key}'")
    questions = tree["questions"]
    clean = {}
    for key, value in answers.items():
        if key not in questions:
            raise DepthgaugeError(f"{where(key)}: unknown question '{key}'. Questions: {', '.join(questions)}.")
        choices = [str(c) for c in questions[key]["choices"]]
        answer = _normalise(value)
        if answer not in choices:
            raise DepthgaugeError(
                f"{where(key)}: '{value}' is not an answer to '{key}' ({questions[key]['prompt']}). "
                f"Expected one of: {', '.join(choices)}."
            )
        clean[key] = answer
    return clean


def advise(answers: dict, ask: Callable[[str, str, list[str]], str] | None = None, tree: dict | None = None) -> Advice:
    """Return the advice for `answers`; a question the path needs but `answers` lacks goes to `ask`, or is an error."""
    tree = tree or load_tree()
    questions = tree["questions"]
    answers = check_answers(answers, tree)
    path: list[Step] = []
    target = "start"
    while not target.startswith("leaf:"):
        node = tree["nodes"][target]
        key = node["ask"]
        if key not in answers:
            choices = [str(c) for c in questions[key]["choices"]]
            if ask is None:
                raise DepthgaugeError(
                    f"Missing required answer '{key}': {questions[key]['prompt']} Expected one of: {', '.join(choices)}. "
                    f"Add it to the answers file, pass --answer {key}=VALUE, or run without --no-input to be asked."
                )
            answers[key] = check_answers({key: ask(key, questions[key]["prompt"], choices)}, tree)[key]
        path.append(Step(key, questions[key]["prompt"], answers[key]))
        target = _branch(node, answers[key])
    leaf_name = target.split(":", 1)[1]
    leaf = tree["leaves"][leaf_name]
    signals = [s["say"] for s in tree["signals"] if all(answers.get(k) in vs for k, vs in s["when"].items())]
    architecture = None
    if leaf["approach"] in DEEP_APPROACHES:
        data_type = answers.get("data_type") or ("text" if answers.get("generative") == "yes" else None)
        if data_type in tree["architectures"]:
            architecture = {"data_type": data_type, **tree["architectures"][data_type]}
        if leaf["approach"] in ("fine_tune", "hybrid_rag"):
            architecture = {"data_type": data_type or "text", "family": "transformer",
                            "caveat": "Fine-tune a pretrained foundation model; never train one from scratch."}
    return Advice(leaf["approach"], leaf["title"], leaf["why"], leaf_name, path, signals, list(leaf["risks"]),
                  architecture, leaf["next"], answers)


def answers_from_data(data_path: str | Path, target: str | None = None) -> dict[str, str]:
    """Return the answers a dataset's profile can give: data type, and how many labels when `target` is named."""
    from depthgauge.data.load import load_table
    from depthgauge.data.profile import infer_role, require_column

    frame = load_table(data_path)
    roles = [infer_role(frame[c])[0] for c in frame.columns if c != target]
    filled = {"data_type": "text" if roles and roles.count("text") * 2 >= len(roles) else "tabular"}
    if target is not None:
        require_column(frame, target, "Target column (--target)")
        labelled = int(frame[target].notna().sum())
        filled["labels"] = ("none" if labelled == 0 else "under_1k" if labelled < 1000
                            else "1k_to_100k" if labelled <= 100_000 else "over_100k")
    return filled


def read_answers_file(path: str | Path, tree: dict | None = None) -> dict[str, str]:
    """Return the answers in a YAML file, with errors that name the file and line."""
    tree = tree or load_tree()
    document = read_yaml(path, "Answers file")
    if document.data is None:
        return {}
    if not isinstance(document.data, dict):
        raise document.error("expected a mapping of question: answer, for example `data_type: tabular`.")
    return check_answers(document.data, tree, where=lambda key: document.where(key))

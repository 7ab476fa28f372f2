"""The vendor scorecard: the questions to ask every AI vendor, weighted, scored 0-5, ranked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from depthgauge.errors import DepthgaugeError
from depthgauge.yamlfile import read_yaml

MAX_SCORE = 5
QUESTIONS = {
    "training_data_use": ("Is our data used to train your models? Can we opt out, in the contract?", 3),
    "update_cadence": ("How often does the model change, are we told first, and can we pin a version?", 2),
    "latency": ("What latency (p50 and p99) do you commit to at our volume and in our region?", 2),
    "failure_handling": ("What happens when the service fails or is unsure: error codes, fallbacks, credits?", 2),
    "audit_and_access": ("Do you give us audit logs of every call and role-based access control?", 3),
    "data_portability": ("Can we export our data, prompts, fine-tunes and logs in open formats if we leave?", 2),
    "pricing_drivers": ("What drives the price (calls, tokens, seats) and what does 10x our volume cost?", 2),
    "monitoring_and_drift": ("How do you monitor quality and drift, and what of it do we see?", 2),
    "human_review": ("Can uncertain outputs go to our reviewers, and their corrections flow back?", 2),
}


def template_text() -> str:
    """Return the YAML a buyer fills in: the questions, their weights, and one example vendor."""
    lines = [
        "# depthgauge vendor scorecard. Ask every vendor these questions, then score each answer",
        f"# from 0 (no answer, or unacceptable) to {MAX_SCORE} (excellent, and in the contract).",
        "# Change the weights to what matters to you; add notes to remember why you scored as you did.",
        "# Score it with: depthgauge vendor score THIS_FILE",
        "min_acceptable: 3   # a score below this is listed as a shortfall",
        "questions:",
    ]
    for key, (question, weight) in QUESTIONS.items():
        lines += [f"  - key: {key}", f"    question: \"{question}\"", f"    weight: {weight}"]
    lines += ["vendors:", "  - name: Example Vendor   # replace with the vendors you are evaluating", "    scores:"]
    lines += [f"      {key}: 3" for key in QUESTIONS]
    lines += ["    notes:", "      training_data_use: \"opt-out only on the enterprise plan\""]
    return "\n".join(lines) + "\n"


@dataclass
class VendorScore:
    name: str
    score: float  # 0-100, weighted
    rank: int
    scores: dict[str, int]
    shortfalls: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Scorecard:
    questions: list[dict]
    vendors: list[VendorScore]
    min_acceptable: int
    source: str
    id: str | None = None
    report_path: Path | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "source": self.source, "min_acceptable": self.min_acceptable, "questions": self.questions,
                "vendors": [asdict(v) for v in self.vendors],
                "report_path": str(self.report_path) if self.report_path else None}


def score_vendors(path: str | Path) -> Scorecard:
    """Return the vendors of the file ranked by weighted score, each with where it falls short."""
    document = read_yaml(path, "Vendor file")
    data = document.data
    if not isinstance(data, dict):
        raise document.error("expected a mapping with `questions:` and `vendors:`. Start from: depthgauge vendor template FILE")
    min_acceptable = data.get("min_acceptable", 3)
    if isinstance(min_acceptable, bool) or not isinstance(min_acceptable, int) or not 0 <= min_acceptable <= MAX_SCORE:
        raise document.error(f"min_acceptable must be a whole number from 0 to {MAX_SCORE}.", "min_acceptable")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise document.error("`questions:` must be a list of {key, question, weight}.", "questions")
    weights: dict[str, float] = {}
    clean_questions = []
    for i, q in enumerate(questions):
        if not isinstance(q, dict) or "key" not in q:
            raise document.error("each question needs a key, a question and a weight.", "questions", i)
        weight = q.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise document.error(f"weight must be a number of 0 or more, got {weight!r}.", "questions", i, "weight")
        if q["key"] in weights:
            raise document.error(f"question '{q['key']}' appears twice.", "questions", i, "key")
        weights[str(q["key"])] = float(weight)
        clean_questions.append({"key": str(q["key"]), "question": str(q.get("question", q["key"])), "weight": float(weight)})
    if sum(weights.values()) <= 0:
        raise document.error("at least one question needs a weight above 0.", "questions")
    vendors = data.get("vendors")
    if not isinstance(vendors, list) or not vendors:
        raise document.error("`vendors:` must list at least one vendor with its scores.", "vendors")
    scored, seen = [], set()
    for i, vendor in enumerate(vendors):
        if not isinstance(vendor, dict) or not vendor.get("name"):
            raise document.error("each vendor needs a name and scores.", "vendors", i)
        name = str(vendor["name"])
        if name in seen:
            raise document.error(f"vendor '{name}' appears twice.", "vendors", i, "name")
        seen.add(name)
        raw_scores = vendor.get("scores") or {}
        if not isinstance(raw_scores, dict):
            raise document.error("scores must be a mapping of question key: score.", "vendors", i, "scores")
        for key in raw_scores:
            if key not in weights:
                raise document.error(f"'{key}' is not one of the questions ({', '.join(weights)}).",
                                     "vendors", i, "scores", key)
        scores = {}
        for key in weights:
            if key not in raw_scores or raw_scores[key] is None:
                raise document.error(f"vendor '{name}' has no score for '{key}'. Score every question from 0 to {MAX_SCORE}.",
                                     "vendors", i, "scores")
            value = raw_scores[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SCORE:
                raise document.error(f"score must be a whole number from 0 to {MAX_SCORE}, got {value!r}.",
                                     "vendors", i, "scores", key)
            scores[key] = value
        total = sum(weights[k] * scores[k] for k in weights) / (MAX_SCORE * sum(weights.values())) * 100
        shortfalls = [k for k in weights if weights[k] > 0 and scores[k] < min_acceptable]
        notes = {str(k): str(v) for k, v in (vendor.get("notes") or {}).items()}
        scored.append(VendorScore(name, round(total, 1), 0, scores, shortfalls, notes))
    scored.sort(key=lambda v: (-v.score, len(v.shortfalls), v.name))
    for rank, vendor in enumerate(scored, start=1):
        vendor.rank = rank
    return Scorecard(clean_questions, scored, min_acceptable, str(Path(path).resolve()))


def check_template_path(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise DepthgaugeError(f"'{path}' already exists. Choose another name, or pass --force to overwrite it.")

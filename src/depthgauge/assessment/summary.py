"""The executive summary: three lines a product manager can act on, at the top of every place a verdict is shown.

1. What to use, and in a clause why.
2. What it costs a month to own against the other option, and, with --value, what it adds over having no model;
   "an assumed" volume when --volume was not given.
3. How sure we are, in words.

Each line is at most about 160 characters, with no parentheses inside parentheses; names lose their "(deep)"
mark. The breakdown (parts of the cost, the value's sampling error, what would decide it) is in the report.
"""

from __future__ import annotations

from depthgauge.assessment.results import CandidateResult, Verdict
from depthgauge.money import usd


def _bare(candidate: CandidateResult) -> str:
    """The name without its "(deep)" mark, for where the sentence already says deep learning."""
    return candidate.display_name.replace(" (deep)", "")


def _use_line(verdict: Verdict, chosen: CandidateResult, deep: CandidateResult | None) -> str:
    name = chosen.display_name
    if verdict.call == "no_verdict":
        shown = verdict.leaking_columns[:3]
        columns = ", ".join(f"'{c}'" for c in shown) + (" and more" if len(verdict.leaking_columns) > 3 else "")
        return (f"No recommendation yet: the data leaks through {columns or 'a column that predicts the target'}. "
                "Remove the leak and run again.")
    if chosen.family == "endpoint":
        return f"Use {name}: it is better than your own best model and pays for its price."
    if verdict.primary_metric == "flagged_share":
        return f"Use {name}: without labels nothing shows that a deep detector finds more real anomalies."
    if deep is None:
        return f"Use {name}: no deep model could be trained, so deep learning is not shown to help."
    if verdict.call == "deep_better":
        if verdict.deep_recommended:
            return f"Use {name}, the deep model: it is better here and pays for itself."
        return f"Use {name}: {deep.display_name} is better, but not by enough to pay for what it costs more."
    if verdict.call == "deep_worse":
        return f"Use {name}: deep learning ({_bare(deep)}) does worse here."
    if verdict.call == "equivalent":
        if verdict.deep_recommended:
            return f"Use {name}, the deep model: it does as well as the simple model and costs less."
        return f"Use {name}: deep learning ({_bare(deep)}) does no better here."
    if verdict.suggested_budget_s:
        return (f"Use {name} for now: {deep.display_name} was still learning when its time ran out, so whether deep "
                "learning pays is not settled.")
    return f"Use {name} for now: this run cannot tell whether deep learning ({_bare(deep)}) is better."


def _cost_line(chosen: CandidateResult, other: CandidateResult | None, baseline: CandidateResult | None,
               value_given: bool, volume_assumed: bool) -> str:
    volume = f"{'an assumed ' if volume_assumed else ''}{chosen.cost.monthly_volume:,} predictions a month"
    adds = chosen.business.get("vs_no_model_usd") if value_given else None
    if adds is None:
        text = f"At {volume}, {_bare(chosen)} costs {usd(chosen.cost.monthly_total_usd, '/ month')} to own"
        if other is not None:
            text += f"; {_bare(other)} would cost {usd(other.cost.monthly_total_usd)}"
        return text + "."
    noise = value_noise(chosen, baseline) if baseline is not None else None
    spread = f" ± {usd(noise)}" if noise is not None and noise >= abs(adds) else ""  # said when it may be noise
    text = (f"At {volume}, {_bare(chosen)} {'adds' if adds >= 0 else 'loses'} {usd(abs(adds), '/ month')}{spread} "
            f"against no model, net of its {usd(chosen.cost.monthly_total_usd)} cost")
    other_adds = other.business.get("vs_no_model_usd") if other is not None else None
    if other_adds is not None:
        text += f"; {_bare(other)} would {'add' if other_adds >= 0 else 'lose'} {usd(abs(other_adds))}"
    return text + "."


def value_noise(chosen: CandidateResult, other: CandidateResult) -> float | None:
    """The 95% margin of error of the monthly value difference, from the paired per-row values on the test rows."""
    from depthgauge.assessment.business import value_per_row
    from depthgauge.assessment.options import ValueMatrix
    from depthgauge.assessment.quality import paired_margin

    a, b, values = chosen.outcome, other.outcome, chosen.business.get("value_matrix")
    if a is None or b is None or not values or len(a.y) < 2 or len(a.y) != len(b.y):
        return None
    task = "regression" if a.proba is None else ("binary" if a.proba.shape[1] == 2 else "multiclass")
    matrix = ValueMatrix(values)
    difference = value_per_row(task, a, matrix) - value_per_row(task, b, matrix)
    return paired_margin(difference) * chosen.cost.monthly_volume


def _sure_line(verdict: Verdict) -> str:
    if verdict.call == "no_verdict":
        return "How sure: not at all. Scores on leaking data do not hold once the leak is gone."
    if verdict.primary_metric == "flagged_share":
        return "How sure: not sure. Without labels the detectors' quality cannot be measured; label a sample to settle it."
    if verdict.deep is None:
        return "How sure: not sure. There was no deep model to compare with."
    from depthgauge.assessment.quality import LABELS
    from depthgauge.assessment.verdict import _amount

    margin = f"{_amount(verdict.primary_metric, verdict.min_effect or 0.0)} of {LABELS[verdict.primary_metric]}"
    if verdict.call in ("deep_better", "deep_worse", "equivalent"):
        where = "within" if verdict.call == "equivalent" else "beyond"
        head = f"The 95% interval lies wholly {where} ±{margin}, the smallest difference worth acting on"
        if verdict.splits_won:
            total = sum(verdict.splits_won.values())
            agree = round((verdict.stability or 0) * total)
            if verdict.stability is not None and verdict.stability < 0.8:
                return f"How sure: fairly. {head}, but only {agree} of {total} splits agree on their own."
            return f"How sure: sure. {head}; {agree} of {total} splits agree on their own."
        return f"How sure: fairly sure. {head}, on one split; more splits would make it firmer."
    if verdict.suggested_budget_s:
        return ("How sure: not yet. The deep model stopped while still improving; a budget of about "
                f"{verdict.suggested_budget_s / 60:g} minutes would settle it.")
    return f"How sure: not sure. The 95% interval spans ±{margin}, the smallest difference worth acting on."


def executive_summary(verdict: Verdict, candidates: list[CandidateResult], value_given: bool,
                      volume_assumed: bool = False) -> list[str]:
    """Return the three lines, from the verdict and the candidates it names; the breakdown is in the report."""
    by_name = {c.name: c for c in candidates}
    chosen = by_name[verdict.recommended]
    deep = by_name.get(verdict.deep) if verdict.deep else None
    simple = by_name.get(verdict.best_simple) if verdict.best_simple else None
    other = simple if chosen is deep or chosen.family == "endpoint" else deep
    baseline = next((c for c in candidates if c.ok and c.family == "dummy"), None)
    return [_use_line(verdict, chosen, deep), _cost_line(chosen, other, baseline, value_given, volume_assumed),
            _sure_line(verdict)]

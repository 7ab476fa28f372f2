"""The executive summary: three lines a product manager can act on, at the top of every place a verdict is shown.

1. What to use, and in a clause why.
2. What it costs a month to own against the other option, and, with --value, what it is worth a month.
3. How sure we are, in words, with what would make it surer.
"""

from __future__ import annotations

from depthgauge.assessment.results import CandidateResult, Verdict
from depthgauge.money import usd


def _than(difference: float, other: str) -> str:
    """Return "$X more than Y", "$X less than Y" or "the same as Y"."""
    if abs(difference) < 0.005:
        return f"the same as {other}"
    return f"{usd(abs(difference))} {'more' if difference > 0 else 'less'} than {other}"


def _bare(candidate: CandidateResult) -> str:
    """The name without its "(deep)" mark, for where the sentence already says deep learning."""
    return candidate.display_name.replace(" (deep)", "")


def _use_line(verdict: Verdict, chosen: CandidateResult, deep: CandidateResult | None) -> str:
    name = chosen.display_name
    if verdict.call == "no_verdict":
        columns = ", ".join(verdict.leaking_columns) or "a column that predicts the target almost perfectly"
        return f"No recommendation yet: the data leaks ({columns}). Remove the leak and run again."
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


def _cost_line(chosen: CandidateResult, other: CandidateResult | None, value_given: bool) -> str:
    text = f"At {chosen.cost.monthly_volume:,} predictions a month it costs {chosen.cost.breakdown()} to own"
    if other is not None:
        text += (f", {_than(chosen.cost.monthly_total_usd - other.cost.monthly_total_usd, other.display_name)} "
                 f"at {usd(other.cost.monthly_total_usd, '/ month')}")
    text += "."
    if value_given and chosen.business.get("monthly_net_value_usd") is not None:
        net = chosen.business["monthly_net_value_usd"]
        text += f" Net of that cost it is worth {usd(net, '/ month')} by your value matrix"
        if other is not None and other.business.get("monthly_net_value_usd") is not None:
            difference = net - other.business["monthly_net_value_usd"]
            text += f", {_than(difference, other.display_name)}"
            noise = _value_noise(chosen, other)
            if noise is not None:
                text += (f" (± {usd(noise)} at 95% on {len(chosen.outcome.y):,} test rows"
                         + (": within the noise)" if abs(difference) <= noise else ")"))
        text += "."
    return text


def _value_noise(chosen: CandidateResult, other: CandidateResult) -> float | None:
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
    margin = f"the smallest difference worth acting on ({verdict.min_effect_source})"
    if verdict.call in ("deep_better", "deep_worse", "equivalent"):
        where = "within" if verdict.call == "equivalent" else "beyond"
        splits = ""
        if verdict.splits_won:
            total = sum(verdict.splits_won.values())
            agree = round((verdict.stability or 0) * total)
            splits = f", and {agree} of {total} splits, each judged alone, agree"
        if verdict.stability is not None and verdict.stability < 0.8:
            return (f"How sure: fairly. The 95% interval is wholly {where} {margin}, but only {agree} of {total} "
                    "splits agree on their own, so the answer depends on the rows.")
        firm = "sure" if verdict.splits_won else "fairly sure"
        more = "" if verdict.splits_won else " It rests on one split; more splits would make it firmer."
        return f"How sure: {firm}. The 95% interval is wholly {where} {margin}{splits}.{more}"
    if verdict.suggested_budget_s:
        return ("How sure: not yet. The deep model stopped while still improving; run again with a budget of about "
                f"{verdict.suggested_budget_s / 60:g} minutes to settle it.")
    return f"How sure: not sure. The 95% interval spans {margin}. {verdict.to_decide or ''}".rstrip()


def executive_summary(verdict: Verdict, candidates: list[CandidateResult], value_given: bool) -> list[str]:
    """Return the three lines, from the verdict and the candidates it names."""
    by_name = {c.name: c for c in candidates}
    chosen = by_name[verdict.recommended]
    deep = by_name.get(verdict.deep) if verdict.deep else None
    simple = by_name.get(verdict.best_simple) if verdict.best_simple else None
    other = simple if chosen is deep or chosen.family == "endpoint" else deep
    return [_use_line(verdict, chosen, deep), _cost_line(chosen, other, value_given), _sure_line(verdict)]

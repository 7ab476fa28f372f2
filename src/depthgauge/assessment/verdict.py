"""The verdict: deep learning only when it wins significantly on the holdout and pays for its extra cost."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from depthgauge.assessment.business import against_no_model
from depthgauge.assessment.economics import break_even_volume, curves, deep_recommended, holds_at
from depthgauge.assessment.quality import (
    LABELS,
    LOWER_IS_BETTER,
    Interval,
    corrected_resampled_interval,
    is_better,
    paired_bootstrap_delta,
    paired_margin,
    splits_to_decide,
)
from depthgauge.assessment.results import CandidateResult, Verdict
from depthgauge.assessment.summary import executive_summary
from depthgauge.cost.ownership import CostTerms
from depthgauge.money import usd

_BOUNDED = {"accuracy", "precision", "recall", "f1", "roc_auc", "r2"}
CHEAPER = 0.9  # "cheaper" means at most 90% of the champion's cost: timing noise alone must not promote


def promotion(metric: str, delta: Interval, challenger_cost: float, champion_cost: float) -> tuple[str, str]:
    """Whether a retrained challenger replaces production, and why: ("promote" | "keep", reason). It must be
    measurably better on `metric` (`delta` > 0 is better), or not measurably worse and at least 10% cheaper."""
    if delta.low > 0:
        return "promote", f"the challenger is measurably better on {metric}"
    if delta.high >= 0 and challenger_cost <= CHEAPER * champion_cost:
        return "promote", f"the challenger is not measurably worse on {metric} and at least 10% cheaper to own per month"
    if delta.high < 0:
        return "keep", f"the challenger is measurably worse on {metric}"
    return "keep", (f"the challenger is not measurably better on {metric} and not 10% cheaper "
                    f"({usd(challenger_cost, '/ month')} vs {usd(champion_cost, '/ month')})")


def describe_delta(metric: str, delta: Interval, challenger: str, reference: str) -> str:
    """Return the difference in words, e.g. "MLP's RMSE is 8.300 higher than LightGBM's, i.e. worse (95% interval:
    from 12.100 worse to 4.500 worse)". `delta` is positive when the challenger is better."""
    label = LABELS[metric]
    scale, unit, digits = (100, " points", 2) if metric in _BOUNDED else (1, "", 3)
    lower_better = metric in LOWER_IS_BETTER

    def amount(x: float) -> str:
        return f"{abs(x) * scale:.{digits}f}{unit}"

    def side(x: float) -> str:
        return "better" if x > 0 else ("worse" if x < 0 else "no different")

    if amount(delta.value) == amount(0.0):  # zero at the precision shown: "0.00 points lower, i.e. worse" misleads
        head = f"{challenger}'s {label} equals {reference}'s to the precision shown"
    else:
        higher = (delta.value > 0) != lower_better
        head = (f"{challenger}'s {label} is {amount(delta.value)} {'higher' if higher else 'lower'} than {reference}'s, "
                f"i.e. {side(delta.value)}")
    if (delta.low > 0) == (delta.high > 0) and delta.low != 0 and delta.high != 0:
        span = f"{amount(min(abs(delta.low), abs(delta.high)))} to {amount(max(abs(delta.low), abs(delta.high)))} {side(delta.low)}"
    else:
        span = f"from {amount(delta.low)} {side(delta.low)} to {amount(delta.high)} {side(delta.high)}"
    return f"{head} (95% interval: {span})"


def split_mean(candidate: CandidateResult, metric: str) -> float:
    """Return the candidate's score: the mean over the repeated splits when there were any, else the test score."""
    scores = [x for x in candidate.split_scores or [] if x is not None]
    return float(np.mean(scores)) if scores else candidate.quality[metric].value


def _best(candidates: list[CandidateResult], metric: str) -> CandidateResult | None:
    best = None
    for c in candidates:  # candidates come simplest first, so a tie keeps the simpler model
        if metric in c.quality and (best is None or is_better(metric, split_mean(c, metric), split_mean(best, metric))):
            best = c
    return best


@dataclass
class Circumstances:
    """What the verdict needs to know beyond the scores: the budget, how to rerun, and whether the data leaks."""

    budget_s: float | None = None
    rerun: Callable[[dict], str] | None = None  # changed options -> the exact command to run again
    leaks: dict[str, float] = field(default_factory=dict)  # suspect column -> its single-feature score
    leak_warned: bool = False  # a single column predicts the target almost perfectly
    allow_leaky: bool = False
    test_train_ratio: float = 0.15 / 0.70  # n_test / n_train of a split, for the corrected resampled t interval
    min_effect: float | None = None  # --min-effect; None: 1% of the best simple score, or --value's break-even
    monthly_volume: int = 1_000_000
    terms: CostTerms | None = None  # the cost terms, to price both options at other volumes
    volume_assumed: bool = False  # --volume was not given: the money is at the default volume, and says so


IMPROVING = 0.002  # a relative fall in validation loss over the last two epochs that still counts as learning
TOO_GOOD = {"roc_auc": 0.99, "r2": 0.99}  # test scores that real data almost never gives without a leak


STABLE = 0.8  # below this share of agreeing splits the headline warns that the answer depends on the split
MAX_MORE_ROWS = 20  # beyond this many times the data, "more data would decide it" is no advice a team can act on
DEFAULT_EFFECT = 0.01  # of the best simple model's score: the default smallest difference worth acting on


def _amount(metric: str, x: float) -> str:
    if metric in _BOUNDED:
        return f"{abs(x) * 100:.2f} points" if abs(x) * 100 >= 0.005 or x == 0 else f"{abs(x) * 100:.2g} points"
    return f"{abs(x):.4g}"


def call_for(delta: Interval, margin: float) -> str:
    """Return the call of an interval (positive = deep better) against the smallest difference worth acting on."""
    if delta.low > margin:
        return "deep_better"
    if delta.high < -margin:
        return "deep_worse"
    if delta.low >= -margin and delta.high <= margin:
        return "equivalent"
    return "inconclusive"


def _point_call(difference: float, margin: float) -> str:
    return call_for(Interval(difference, difference, difference), margin)


def min_effect(metric: str, simple: CandidateResult, deep: CandidateResult, baseline: CandidateResult | None,
               value_given: bool, explicit: float | None) -> tuple[float, str]:
    """Return the smallest difference in `metric` worth acting on, and where it comes from.

    Without a value matrix it is 1% of the best simple model's score. With one it is the larger of
    that and the break-even gain: the deep model's extra monthly cost divided by what one unit of
    the metric is worth a month. That worth is read off the line from the majority/mean baseline to
    the best simple model (their values and scores), the one place two known points of the
    value-per-metric curve are measured. The 1% floor keeps a deep model that costs no more from
    needing an exact tie to be called equivalent: below it, no difference is worth a second model
    to run.
    """
    if explicit is not None:
        return float(explicit), "--min-effect"
    score = simple.quality[metric].value
    default = (DEFAULT_EFFECT * abs(score), f"1% of {simple.display_name}'s {LABELS[metric]}")
    if not value_given or baseline is None or metric not in baseline.quality:
        return default
    worth = simple.business["gross_value_per_1k"] - baseline.business["gross_value_per_1k"]
    gain = simple.quality[metric].value - baseline.quality[metric].value
    gain = -gain if metric in LOWER_IS_BETTER else gain
    if gain <= 0 or worth <= 0:
        return default[0], default[1] + "; the value matrix gives no break-even (the simple model adds no value)"
    extra_cost = max(deep.cost.monthly_total_usd - simple.cost.monthly_total_usd, 0.0)
    if extra_cost < 0.005:
        return default[0], default[1] + "; by --value any gain pays, since the deep model costs no more to own"
    worth_per_month = worth * simple.cost.monthly_volume / 1000.0  # of the gain from the baseline to the simple model
    unit = 0.01 if metric in _BOUNDED else 1.0
    break_even = extra_cost * gain / worth_per_month
    text = (f"the break-even of --value: the deep model's extra {usd(extra_cost, '/ month')} to own, at "
            f"{usd(worth_per_month / gain * unit, '/ month')} of value per {'point' if metric in _BOUNDED else 'unit'} "
            f"of {LABELS[metric]}")
    if break_even < default[0]:
        return default[0], f"{default[1]}, above {text} ({_amount(metric, break_even)})"
    return break_even, text


def compare(task: str, metric: str, deep: CandidateResult, simple: CandidateResult, resamples: int, seed: int,
            test_train_ratio: float) -> dict:
    """Return the deep-minus-simple difference with its interval (positive = deep better), and per-split facts."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    pairs = [(d, s) for d, s in zip(deep.split_scores or [], simple.split_scores or [])
             if d is not None and s is not None]
    if len(pairs) >= 3:
        differences = [sign * (d - s) for d, s in pairs]
        delta = corrected_resampled_interval(differences, test_train_ratio)
        won = {"deep": sum(x > 0 for x in differences), "simple": sum(x < 0 for x in differences),
               "tied": sum(x == 0 for x in differences)}

        def stability_of(margin: float) -> float:
            overall = _point_call(delta.value, margin)
            return sum(_point_call(x, margin) == overall for x in differences) / len(differences)

        return {"delta": delta, "differences": differences, "splits": len(pairs), "splits_won": won,
                "stability_of": stability_of, "spread": float(np.std(differences, ddof=1)),
                "test_train_ratio": test_train_ratio,
                "method": f"the corrected resampled t-test (Nadeau & Bengio 2003) over {len(pairs)} repeated splits"}
    delta = paired_bootstrap_delta(task, metric, deep.outcome, simple.outcome, resamples, seed)
    return {"delta": delta, "differences": None, "splits": 0, "splits_won": None, "stability_of": lambda m: None,
            "method": f"a paired bootstrap ({resamples} resamples) over one split's test rows"}


def _what_would_decide(delta: Interval, margin: float, data: dict, n_test: int, metric: str = "roc_auc") -> str:
    """Say what would likely turn an inconclusive interval into a call: more rows or splits when a team could get
    them (at most 20× the rows), else that the difference is close to the margin and which --min-effect decides it."""
    half = (delta.high - delta.low) / 2
    needed = abs(abs(delta.value) - margin)  # the half-width at which the interval clears or fits the margin
    factor = math.ceil((half / needed) ** 2 * 10) / 10 if needed >= 1e-12 and half > 0 else math.inf
    if factor > MAX_MORE_ROWS:
        return _margin_advice(delta, margin, metric)
    text = f"About {factor:g}× as many rows ({math.ceil(factor * n_test):,} test rows) would likely decide it"
    if data["splits"]:
        k = splits_to_decide(data["spread"], needed, data["test_train_ratio"])
        text += (f"; so would {k} splits (--repeats {k})" if k and k > data["splits"] else
                 "; more splits alone would not (their training rows overlap)")
    return text + "."


def _margin_advice(delta: Interval, margin: float, metric: str) -> str:
    """What to say when no amount of data a team could collect would settle it: the difference is near the margin,
    so the call rests on what difference is worth acting on."""
    wide = max(abs(delta.low), abs(delta.high))
    text = (f"The difference is close to the margin of {_amount(metric, margin)}, so more data would hardly settle "
            f"it (it would take over {MAX_MORE_ROWS}× the rows): in practice the two serve alike. "
            f"--min-effect {_flag_number(metric, wide)} (a difference you would ignore) would call them equivalent")
    if delta.low > 0:
        text += f"; --min-effect under {_flag_number(metric, delta.low)} would call deep learning better"
    elif delta.high < 0:
        text += f"; --min-effect under {_flag_number(metric, -delta.high)} would call it worse"
    return text + ". With --value, the margin is what a point is worth to you."


def _flag_number(metric: str, x: float) -> str:
    """A margin as --min-effect takes it (in the metric's own units), rounded up so it clears."""
    digits = 4 if metric in _BOUNDED else 3
    step = 10 ** -digits
    return f"{math.ceil(abs(x) / step) * step:.{digits}f}".rstrip("0").rstrip(".")


def still_improving(candidate: CandidateResult) -> bool:
    """Return whether the candidate stopped on the clock while it was still getting better.

    Networks are judged by their learning curve: the best validation loss of the last two epochs
    beats all earlier ones by more than 0.2%, or there were too few epochs to tell. Models without
    a curve (boosting cut before early stopping, a solver cut before converging, an encoder that
    embedded only part of the training rows) were cut off by definition.
    """
    if not candidate.ok or candidate.params.get("stopped_because") != "time_budget":
        return False
    curve = (candidate.learning_curve or {}).get("val_loss") or []
    if not candidate.learning_curve:
        return True
    if len(curve) < 3:
        return True
    return min(curve[-2:]) < min(curve[:-2]) * (1.0 - IMPROVING)


def needed_fit_seconds(candidate: CandidateResult) -> float:
    """Return about how long the candidate's fit would need to reach its plateau, from its learning curve."""
    spent = max(candidate.fit_seconds, candidate.params.get("time_slice_s", 0.0), 1.0)
    curve = (candidate.learning_curve or {}).get("val_loss") or []
    if len(curve) >= 3:
        d1, d2 = curve[-3] - curve[-2], curve[-2] - curve[-1]
        epochs = len(curve)
        more = 2 * epochs  # without a clean geometric slow-down, assume it needs three times the epochs it had
        if 0 < d2 < d1:
            ratio = d2 / d1  # improvements shrink geometrically: epochs until one is under 0.5% of the loss
            more = max(math.log(0.005 * abs(curve[-1]) / d2) / math.log(ratio), 1.0) if d2 > 0.005 * abs(curve[-1]) else 1.0
        return spent * (epochs + more + 3) / epochs  # + a few epochs of patience to see the plateau
    return 3.0 * spent


def _suggested_budget(budget_s: float, cut: list[CandidateResult]) -> float:
    factor = max(needed_fit_seconds(c) / max(c.params.get("time_slice_s", c.fit_seconds), 1.0) for c in cut)
    return math.ceil(budget_s * min(max(factor, 1.5), 20.0) / 60.0) * 60.0


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g}m" if seconds >= 60 else f"{seconds:g}s"


def _leak_verdict(simple: CandidateResult, metric: str, candidates: list[CandidateResult],
                  circumstances: Circumstances, max_extra_cost: float) -> Verdict | None:
    """Return 'No verdict: the data leaks' when it does (and --allow-leaky is not given), else None."""
    too_good = [c for c in candidates if c.ok and c.family != "endpoint" and any(
        m in c.quality and c.quality[m].value >= bound for m, bound in TOO_GOOD.items())]
    if not (circumstances.leak_warned or (too_good and circumstances.leaks)):
        return None
    columns = sorted(circumstances.leaks, key=lambda k: -circumstances.leaks[k])
    named = ", ".join(f"'{c}' ({circumstances.leaks[c]:.2f} alone)" for c in columns)
    why = (f"{too_good[0].display_name} scores {max(c.quality[m].value for c in too_good for m in TOO_GOOD if m in c.quality):.3f} "
           f"on the test rows, more than real data gives without a leak" if too_good else
           "a single column predicts the target almost perfectly")
    rerun = circumstances.rerun({"drop": columns}) if circumstances.rerun else None
    if circumstances.allow_leaky:
        return None
    headline = (f"No verdict: the data leaks. {why[0].upper() + why[1:]}. Suspect column(s), with how well each "
                f"predicts the target on its own (1 = perfectly): {named}. Check whether they are known before the "
                f"outcome; if not, rerun without them" + (f": {rerun}" if rerun else "") +
                ". Pass --allow-leaky to get a verdict anyway.")
    return Verdict(simple.name, False, headline, [], metric, simple.name, None, None, None, None, max_extra_cost,
                   call="no_verdict", call_reasons=[why], rerun=rerun, leaking_columns=columns)


def decide_verdict(task: str, metric: str, candidates: list[CandidateResult], value_given: bool,
                   max_extra_cost: float, resamples: int, seed: int,
                   circumstances: Circumstances | None = None) -> Verdict:
    """Return the verdict for the candidates that trained, in plain English with the numbers in it, and its summary."""
    circumstances = circumstances or Circumstances()
    none_worth = against_no_model(candidates) if value_given else None
    verdict = _decide(task, metric, candidates, value_given, max_extra_cost, resamples, seed, circumstances)
    if none_worth is not None:
        chosen = next(c for c in candidates if c.name == verdict.recommended)
        losing = [c.display_name for c in candidates if c.ok and c.family != "dummy"
                  and c.business.get("vs_no_model_usd") is not None and c.business["vs_no_model_usd"] < 0]
        verdict.no_model = {"monthly_value_usd": none_worth, "recommended_adds_usd": chosen.business.get("vs_no_model_usd"),
                            "losing": losing}
        if losing:
            verdict.reasons.append(f"Worth less than having no model at all, net of what they cost to own: "
                                   f"{', '.join(losing)}. No model is worth {usd(none_worth, '/ month')} by your "
                                   "value matrix: the best single action taken for every case.")
    verdict.summary = executive_summary(verdict, candidates, value_given, circumstances.volume_assumed)
    return verdict


def _decide(task: str, metric: str, candidates: list[CandidateResult], value_given: bool, max_extra_cost: float,
            resamples: int, seed: int, circumstances: Circumstances | None) -> Verdict:
    circumstances = circumstances or Circumstances()
    trained = [c for c in candidates if c.ok and c.family != "endpoint"]
    simple = _best([c for c in trained if not c.is_deep], metric)
    deep = _best([c for c in trained if c.is_deep], metric)
    baseline = next((c for c in trained if c.family == "dummy"), None)
    label = LABELS[metric]
    if simple is None:
        raise RuntimeError("no simple candidate trained; the baselines cannot fail on validated data")
    reasons: list[str] = []
    leaking = _leak_verdict(simple, metric, candidates, circumstances, max_extra_cost)
    if leaking is not None:
        return leaking
    if circumstances.leaks or circumstances.leak_warned:
        reasons.append(f"Leakage suspected in {', '.join(circumstances.leaks) or 'the data'}; this verdict was asked "
                       "for with --allow-leaky and may not hold on data without the leak.")

    simple_vs_baseline = None
    if baseline is not None and simple is not baseline:
        simple_vs_baseline = paired_bootstrap_delta(task, metric, simple.outcome, baseline.outcome, resamples, seed)
        if simple_vs_baseline.low <= 0:
            reasons.append(
                f"Caution: even {simple.display_name} is not significantly better than always predicting the "
                f"majority/mean: {describe_delta(metric, simple_vs_baseline, simple.display_name, 'the baseline')}. "
                f"The features may carry little signal."
            )

    if deep is None:
        failed = [c for c in candidates if c.is_deep and not c.ok]
        why = f" ({failed[0].status}: {failed[0].error})" if failed else ""
        headline = (f"Use {simple.display_name}. No deep model could be trained{why}, so deep learning "
                    f"is not recommended from this run.")
        verdict = Verdict(simple.name, False, headline, reasons, metric, simple.name, None, None, simple_vs_baseline,
                          None, max_extra_cost, call="inconclusive",
                          call_reasons=["no deep candidate was trained, so the run cannot compare one"])
        return _compare_endpoints(verdict, task, metric, candidates, value_given, max_extra_cost, resamples, seed)

    comparison_data = compare(task, metric, deep, simple, resamples, seed, circumstances.test_train_ratio)
    delta = comparison_data["delta"]
    margin, margin_source = min_effect(metric, simple, deep, baseline, value_given, circumstances.min_effect)
    deep_cost, simple_cost = deep.cost.monthly_total_usd, simple.cost.monthly_total_usd
    extra = deep_cost - simple_cost
    cost_text = (f"{deep.display_name} costs {deep.cost.breakdown()} to own, {simple.display_name} "
                 f"{simple.cost.breakdown()}")
    comparison = describe_delta(metric, delta, deep.display_name, simple.display_name)

    error = review_error(deep, simple)
    deep_net, simple_net = deep.business.get("monthly_net_value_usd"), simple.business.get("monthly_net_value_usd")
    if value_given:
        paid_back = deep_recommended("deep_better", extra, deep_net, simple_net, error, True, max_extra_cost)
        payback_text = (f"net of owning it, it is worth {usd(deep_net, '/ month')} against {usd(simple_net, '/ month')} "
                        f"from your value matrix")
    else:
        # the burden of proof is on the cost: a deep model shown better is refused only if it surely costs too much
        paid_back = deep_recommended("deep_better", extra, None, None, error, False, max_extra_cost)
        payback_text = (f"{_extra_text(extra)}"
                        + (f" (± {usd(error)} for the review shares' sampling error)" if error >= 0.005 else "")
                        + f" ({cost_text}); you allow up to {usd(max_extra_cost, '/ month')} more (--max-extra-cost)")

    call = call_for(delta, margin)
    deep_cut = [c for c in trained if c.is_deep and still_improving(c)]
    simple_cut = [c for c in trained if not c.is_deep and still_improving(c)]
    # Only a cut-off on the side that could turn the call makes it inconclusive: a deep model that already
    # wins is not helped by a longer budget for itself, nor is one that loses to a simple model that finished.
    cut = simple_cut if call == "deep_better" else deep_cut
    margin_text = f"{_amount(metric, margin)} of {label} ({margin_source})"
    call_reasons = [f"{comparison}.", f"The smallest difference worth acting on: {margin_text}."]
    suggested = rerun = to_decide = None
    splits_text = ""
    if comparison_data["splits"]:
        won = comparison_data["splits_won"]
        splits_text = (f" Over {comparison_data['splits']} splits deep learning won {won['deep']}, "
                       f"the simple model {won['simple']}.")
    if cut:
        call = "inconclusive"
        names = ", ".join(f"{c.display_name} ({_cut_detail(c)})" for c in cut)
        call_reasons.append(f"Stopped on the clock while still improving: {names}.")
        if circumstances.budget_s:
            suggested = _suggested_budget(circumstances.budget_s, cut)
            rerun = circumstances.rerun({"time_budget": _minutes(suggested)}) if circumstances.rerun else None
        headline = (f"Inconclusive: {' and '.join(c.display_name for c in cut)} stopped on the clock while still "
                    f"improving, so this run cannot tell whether deep learning pays here. So far {comparison}; "
                    f"{cost_text}. Until then use {simple.display_name}."
                    + (f" Its learning curve suggests a budget of about {_minutes(suggested)}: {rerun}" if rerun else ""))
        recommended = simple.name
    elif call == "inconclusive":
        to_decide = _what_would_decide(delta, margin, comparison_data, len(simple.outcome.y), metric)
        call_reasons.append(to_decide)
        headline = (f"Inconclusive: the difference may or may not matter. {comparison}; the interval is neither "
                    f"wholly beyond nor wholly within ±{margin_text}.{splits_text} {to_decide} Until then use "
                    f"{simple.display_name}, the simpler model.")
        recommended = simple.name
    elif call == "equivalent":
        # A saving within --max-extra-cost is too small to act on, as an extra cost that size is allowed: the
        # simpler model stays unless the deep one surely saves more (review shares are measured on few rows).
        cheaper = deep if deep_recommended("equivalent", extra, deep_net, simple_net, error, value_given,
                                           max_extra_cost) else simple
        if cheaper is deep:
            cheaper_text = f"{deep.display_name} is the cheaper by more than --max-extra-cost"
        elif deep_cost < simple_cost:
            cheaper_text = (f"{simple.display_name} is the simpler; {deep.display_name} would save "
                            f"{usd(simple_cost - deep_cost, '/ month')}, not surely more than --max-extra-cost "
                            f"({usd(max_extra_cost, '/ month')}) once the review shares' sampling error is allowed for")
        else:
            cheaper_text = f"{simple.display_name} is the simpler and not dearer"
        headline = (f"Use {cheaper.display_name}: the two are equivalent. {comparison}, inside ±{margin_text}."
                    f"{splits_text} {cheaper_text} ({cost_text}).")
        recommended = cheaper.name
    elif call == "deep_better" and paid_back:
        headline = (f"Use {deep.display_name}: deep learning earns its keep here. {comparison}, beyond "
                    f"{margin_text}.{splits_text} It pays for itself: {payback_text}.")
        recommended = deep.name
    elif call == "deep_better":
        headline = (f"Use {simple.display_name}, not deep learning. {comparison}, beyond {margin_text}, but it "
                    f"does not pay for itself: {payback_text}.")
        recommended = simple.name
    else:
        headline = (f"Use {simple.display_name}, not deep learning. {comparison}, by more than {margin_text}."
                    f"{splits_text} {cost_text}.")
        recommended = simple.name
    stability = comparison_data["stability_of"](margin)
    if stability is not None and stability < STABLE:
        headline += (f" Caution: only {stability:.0%} of the splits, each judged alone, agree with this call; "
                     "the answer depends on the split.")
    reasons.insert(0, f"Primary metric: {label}, each candidate scored on the same held-out test rows; the interval "
                      f"is {comparison_data['method']}.")
    verdict = Verdict(recommended, recommended == deep.name, headline, reasons, metric, simple.name, deep.name, delta,
                      simple_vs_baseline, extra, max_extra_cost, call=call, call_reasons=call_reasons,
                      suggested_budget_s=suggested, rerun=rerun, min_effect=margin, min_effect_source=margin_source,
                      interval_method=comparison_data["method"], split_differences=comparison_data["differences"],
                      splits_won=comparison_data["splits_won"], stability=stability, to_decide=to_decide)
    if circumstances.terms is not None:
        terms = circumstances.terms
        verdict.break_even = (break_even_volume(deep, simple, terms) if value_given else
                              {"volume": None, "says": "needs --value: without a value of each outcome no extra value "
                                                       "pays for the extra cost"})
        verdict.holds_at = holds_at(call, deep, simple, terms, error, value_given, max_extra_cost,
                                    recommended == deep.name)
        verdict.money_curves = curves(deep, simple, terms)
    return _compare_endpoints(verdict, task, metric, candidates, value_given, max_extra_cost, resamples, seed)


def review_error(deep: CandidateResult, simple: CandidateResult) -> float:
    """Return the 95% margin of error, in dollars a month, of the difference in the two models' review labour.

    Serving and retraining are deterministic; the review share is measured on the test rows, so its
    paired difference carries a standard error (one row of 86 is $5,800 a month at 1M predictions).
    """
    a, b = deep.outcome, simple.outcome
    threshold = simple.risk.get("review_threshold")
    if threshold is None or a is None or b is None or a.proba is None or b.proba is None or len(a.y) < 2:
        return 0.0
    difference = ((b.confidence()[0] < threshold).astype(float) - (a.confidence()[0] < threshold).astype(float))
    return paired_margin(difference) * simple.cost.monthly_volume * simple.cost.review_cost_usd


def _extra_text(extra: float) -> str:
    if abs(extra) < 0.005:
        return "it costs the same a month"
    return f"it costs {usd(abs(extra), '/ month')} {'more' if extra > 0 else 'less'}"


def _cut_detail(candidate: CandidateResult) -> str:
    p = candidate.params
    if "epochs" in p:
        return f"{p['epochs']} epoch(s) in {candidate.fit_seconds:.0f}s"
    if "rounds" in p:
        return f"{p['rounds']} boosting rounds in {candidate.fit_seconds:.0f}s"
    if "train_rows_used" in p:
        return f"embedded {p['train_rows_used']:,} training rows in {candidate.fit_seconds:.0f}s"
    if "iterations" in p:
        return f"{p['iterations']} solver iterations, not converged, in {candidate.fit_seconds:.0f}s"
    return f"{candidate.fit_seconds:.0f}s"


def _compare_endpoints(verdict: Verdict, task: str, metric: str, candidates: list[CandidateResult], value_given: bool,
                       max_extra_cost: float, resamples: int, seed: int) -> Verdict:
    """Put the best vendor endpoint against the project's recommended model: the same paired test and cost rule."""
    vendors = [c for c in candidates if c.ok and c.family == "endpoint"]
    vendor = _best(vendors, metric)
    if vendor is None:
        return verdict
    own = next(c for c in candidates if c.name == verdict.recommended)
    delta = paired_bootstrap_delta(task, metric, vendor.outcome, own.outcome, resamples, seed)
    extra = vendor.cost.monthly_total_usd - own.cost.monthly_total_usd
    own_cost_text = (f"{own.display_name} costs {own.cost.breakdown()} to own, the endpoint "
                     f"{vendor.cost.breakdown()}")
    calls, answered = vendor.params.get("calls", 0), vendor.params.get("answered", 0)
    failures = calls - answered
    failure_text = (f"{failures:,} of its {calls:,} calls failed ({failures / calls:.1%}: "
                    + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(vendor.risk.get("errors", {}).items()))
                    + ") and were scored as the fallback" if failures else f"all {calls:,} of its calls answered")
    if value_given:
        vendor_net, own_net = vendor.business["monthly_net_value_usd"], own.business["monthly_net_value_usd"]
        paid_back = vendor_net > own_net
        payback_text = (f"net of its cost it is worth {usd(vendor_net, '/ month')} against {usd(own_net, '/ month')} "
                        "from your value matrix")
    else:
        paid_back = extra <= max_extra_cost
        payback_text = (f"{_extra_text(extra)} than {own.display_name}; you allow up to "
                        f"{usd(max_extra_cost, '/ month')} more (--max-extra-cost)")
    vendor_name = vendor.name.split(":", 1)[1]
    comparison = describe_delta(metric, delta, f"The vendor endpoint {vendor_name}", own.display_name)
    if delta.low > 0 and paid_back:
        verdict.headline = (f"Use the vendor endpoint {vendor_name}: {comparison} ({own.display_name} is "
                            f"the best of your own models), a significant gain that pays for "
                            f"itself ({payback_text}). Among your own models: {verdict.headline}")
        verdict.recommended = vendor.name
        verdict.deep_recommended = False
    elif delta.low > 0:
        verdict.headline += (f" {comparison}, a significant gain, but it does not pay for itself: {payback_text}; "
                             f"{own_cost_text}.")
    else:
        significance = "significantly worse" if delta.high < 0 else "not a significant difference"
        verdict.headline += f" {comparison}: {significance}; {own_cost_text}."
    verdict.reasons.append(f"Vendor endpoint {vendor_name}: {failure_text}. Its latency was measured "
                           f"over the real calls: p50 {vendor.operations.latency_p50_ms:.0f} ms, "
                           f"p99 {vendor.operations.latency_p99_ms:.0f} ms.")
    for other in vendors:
        if other is not vendor:
            verdict.reasons.append(f"Vendor endpoint {other.name.split(':', 1)[1]} scored "
                                   f"{other.quality[metric].value:.4f} {LABELS[metric]}, below {vendor_name}.")
    verdict.endpoint, verdict.endpoint_vs_own, verdict.endpoint_extra_monthly_cost = vendor.name, delta, extra
    return verdict



def unlabelled_anomaly_verdict(candidates: list[CandidateResult], max_extra_cost: float) -> Verdict:
    """Without labels no detector can be shown to find more real anomalies, so the simpler one is recommended.

    The verdict says how far the detectors agree (rank correlation of their scores, overlap of the
    rows they flag) and what the deep one costs, and how to get labels that would settle it.
    """
    from scipy.stats import spearmanr

    trained = [c for c in candidates if c.ok]
    simple = next((c for c in trained if not c.is_deep), None)
    deep = next((c for c in trained if c.is_deep), None)
    if simple is None:
        raise RuntimeError("the isolation forest did not train; it cannot fail on validated data")
    reasons = ["No labels: quality (how many real anomalies each detector finds) cannot be measured. Label a sample "
               "of the flagged rows, or pass --target with a label column, to settle which detector is better."]
    if deep is None:
        headline = f"Use {simple.display_name}. The deep detector could not be trained, and without labels nothing favours it."
        verdict = Verdict(simple.name, False, headline, reasons, "flagged_share", simple.name, None, None, None, None,
                          max_extra_cost)
        verdict.summary = executive_summary(verdict, candidates, False)
        return verdict
    a, b = simple.outcome.proba[:, 0], deep.outcome.proba[:, 0]
    correlation = float(spearmanr(a, b).statistic) if len(a) > 2 else float("nan")
    flagged_a, flagged_b = simple.outcome.pred == 0, deep.outcome.pred == 0
    union = int((flagged_a | flagged_b).sum())
    overlap = int((flagged_a & flagged_b).sum()) / union if union else 1.0
    extra = deep.cost.monthly_total_usd - simple.cost.monthly_total_usd
    cost_text = (f"{_extra_text(extra)} to own ({usd(deep.cost.monthly_total_usd, '/ month')} against "
                 f"{usd(simple.cost.monthly_total_usd, '/ month')})")
    headline = (f"Use {simple.display_name}, not deep learning: without labels there is no evidence that "
                f"{deep.display_name} finds more real anomalies"
                + (f", and {cost_text}. " if extra > 0 else
                   f". {cost_text[0].upper() + cost_text[1:]}, but its scores are harder to explain and to keep stable. ")
                + f"The two agree on {overlap:.0%} of the rows either flags (rank correlation of scores "
                f"{correlation:.2f}).")
    reasons.append(f"Each detector flags the test rows whose score is above its training rows' "
                   f"{1 - simple.params.get('expected_share', 0.05):.0%} quantile; the shares flagged on the test rows "
                   f"are {simple.quality['flagged_share'].value:.1%} and {deep.quality['flagged_share'].value:.1%}.")
    verdict = Verdict(simple.name, False, headline, reasons, "flagged_share", simple.name, deep.name, None, None, extra,
                      max_extra_cost, call="inconclusive",
                      call_reasons=["without labels, no detector can be shown to find more real anomalies"])
    verdict.summary = executive_summary(verdict, candidates, False)
    return verdict

"""The verdict over repeated splits: the corrected interval, the margin worth acting on, the call and its stability."""

import numpy as np
import pytest

import depthgauge
from depthgauge.assessment.options import ValueMatrix
from depthgauge.assessment.quality import corrected_resampled_interval
from depthgauge.assessment.repeats import affordable_repeats
from depthgauge.assessment.verdict import Circumstances, decide_verdict
from depthgauge.data.synth import churn_table
from tests.helpers.verdicts import candidate


def _with_splits(result, scores):
    result.split_scores = list(scores)
    result.quality["roc_auc"].value = float(np.mean(scores))
    return result


def _pair(seed, deep_shift, spread=0.004, k=5):
    """A simple and a deep candidate whose split scores differ by `deep_shift` plus split noise."""
    rng = np.random.default_rng(seed)
    base = 0.85 + rng.normal(0, 0.01, k)  # splits differ in difficulty, both models alike
    simple = _with_splits(candidate("lightgbm", False, 0.3, 1e5), base)
    deep = _with_splits(candidate("mlp", True, 0.3, 1e5), base + deep_shift + rng.normal(0, spread, k))
    return [simple, deep]


@pytest.mark.parametrize("seed", range(5))
def test_no_real_difference_is_called_equivalent_on_every_seed(seed):
    verdict = decide_verdict("binary", "roc_auc", _pair(seed, 0.0, spread=0.002), False, 100.0, 200, seed)
    assert verdict.call == "equivalent", verdict.headline
    assert "equivalent" in verdict.headline and verdict.recommended == "lightgbm"  # the cheaper of the two
    assert verdict.interval_method.startswith("the corrected resampled t-test")
    assert len(verdict.split_differences) == 5 and sum(verdict.splits_won.values()) == 5


@pytest.mark.parametrize("seed", range(5))
def test_a_large_planted_difference_is_called_on_every_seed(seed):
    better = decide_verdict("binary", "roc_auc", _pair(seed, 0.05), False, 100.0, 200, seed)
    worse = decide_verdict("binary", "roc_auc", _pair(seed, -0.05), False, 100.0, 200, seed)
    assert better.call == "deep_better" and better.recommended == "mlp" and better.stability == 1.0
    assert worse.call == "deep_worse" and "i.e. worse" in worse.headline and worse.splits_won["simple"] == 5


def test_the_interval_widens_when_splits_disagree():
    agree = corrected_resampled_interval([0.010, 0.011, 0.009, 0.010, 0.010], 0.2)
    disagree = corrected_resampled_interval([0.030, -0.010, 0.025, -0.005, 0.010], 0.2)
    assert agree.value == pytest.approx(disagree.value)
    assert disagree.high - disagree.low > 5 * (agree.high - agree.low)
    # the overlap correction: wider than the naive t interval over the same splits
    naive_half = 2.776 * np.std([0.030, -0.010, 0.025, -0.005, 0.010], ddof=1) / np.sqrt(5)
    assert (disagree.high - disagree.low) / 2 > naive_half


def test_an_unclear_difference_is_inconclusive_and_says_what_would_decide_it():
    cands = _pair(0, 0.01, spread=0.012)
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0)
    assert verdict.call == "inconclusive" and not verdict.deep_recommended
    # about 100× the rows would be needed: no advice a team can act on, so it names the --min-effect that decides
    assert "close to the margin" in verdict.to_decide and "--min-effect" in verdict.to_decide
    assert verdict.to_decide in verdict.headline
    assert verdict.stability is not None and "Caution" in verdict.headline  # splits disagree


def test_min_effect_given_by_the_user_decides_what_is_equivalent():
    cands = _pair(1, 0.01, spread=0.001)
    assert decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0).call == "deep_better"
    wide = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0, Circumstances(min_effect=0.05))
    assert wide.call == "equivalent" and wide.min_effect == 0.05 and wide.min_effect_source == "--min-effect"


def test_the_margin_comes_from_the_value_matrix():
    def margin(values, deep_throughput=0.5):
        matrix = ValueMatrix(values)
        baseline = candidate("dummy", False, 0.0, 1e6, matrix)
        simple = candidate("lightgbm", False, 0.3, 1e6, matrix)
        deep = candidate("mlp", True, 0.35, deep_throughput, matrix)
        verdict = decide_verdict("binary", "roc_auc", [baseline, simple, deep], True, 100.0, 200, 0)
        return verdict, baseline, simple, deep

    # outcomes worth cents: a point of ROC-AUC is worth little a month, so 4 more instances need a large gain
    verdict, baseline, simple, deep = margin({"tp": 0.001, "fp": -0.0002, "fn": -0.005})
    extra = deep.cost.monthly_total_usd - simple.cost.monthly_total_usd  # 4 more instances a month
    assert extra == pytest.approx(4 * 0.1008 * 730)
    worth = (simple.business["gross_value_per_1k"] - baseline.business["gross_value_per_1k"]) * 1000  # a month
    gain = simple.quality["roc_auc"].value - baseline.quality["roc_auc"].value
    assert extra * gain / worth > 0.01 * simple.quality["roc_auc"].value
    assert verdict.min_effect == pytest.approx(extra * gain / worth)
    assert verdict.min_effect_source.startswith("the break-even of --value: the deep model's extra $294.34 / month")
    # outcomes worth hundreds of dollars: the break-even is tiny, and the 1% floor applies
    rich, _, simple, _ = margin({"tp": 100, "fp": -20, "fn": -500})
    assert rich.min_effect == pytest.approx(0.01 * simple.quality["roc_auc"].value)
    assert rich.min_effect_source.startswith("1% of lightgbm's ROC-AUC, above the break-even of --value")
    free, _, simple, _ = margin({"tp": 100, "fp": -20, "fn": -500}, deep_throughput=1e6)  # costs no more
    assert free.min_effect == pytest.approx(0.01 * simple.quality["roc_auc"].value)
    assert "any gain pays, since the deep model costs no more to own" in free.min_effect_source
    no_value = decide_verdict("binary", "roc_auc", [baseline, simple, deep], False, 100.0, 200, 0)
    assert no_value.min_effect == pytest.approx(0.01 * simple.quality["roc_auc"].value)


def test_repeats_are_cut_to_what_the_fitting_time_affords_and_say_why():
    assert affordable_repeats(5, 600.0, ["dummy", "linear", "lightgbm", "mlp", "tabm"]) == (5, None)
    repeats, note = affordable_repeats(5, 30.0, ["dummy", "linear", "lightgbm", "mlp", "tabm"])
    assert repeats == 3 and "3 splits, not 5" in note and "--time-budget" in note
    repeats, note = affordable_repeats(5, 12.0, ["dummy", "linear", "rules", "lightgbm", "mlp", "tabm"])
    assert repeats == 1 and "1 split, not 5" in note  # two splits would be too few for the t interval


def test_an_assessment_scores_every_candidate_on_each_split_and_reports_them(tmp_path):
    result = depthgauge.assess(churn_table(800, 6, seed=3), target="churned", time_budget="30s", repeats=3,
                               candidates=("dummy", "linear", "mlp"), home=tmp_path / "ws", resamples=200)
    k = result.split["repeats"]  # 3, and more when the call was inconclusive and time was left
    assert k == 3 and result.split["repeats_note"] is None or k > 3 and "more were run" in result.split["repeats_note"]
    for c in result.candidates:
        assert len(c.split_scores) == k and None not in c.split_scores, c.name
        assert c.split_scores[0] == c.params["split_1"]["roc_auc"]["value"]  # split 1 is the one measured in full
        shown = c.quality["roc_auc"]  # one set of numbers: the mean over the splits, inside its own interval
        assert shown.value == pytest.approx(np.mean(c.split_scores)) and shown.low <= shown.value <= shown.high
        assert result.scorecard.loc[c.name, "roc_auc"] == shown.value
    assert len({round(s, 6) for s in result.candidates[1].split_scores}) > 1  # the splits really differ
    verdict = result.verdict
    assert verdict.interval_method.startswith("the corrected resampled t-test")
    assert len(verdict.split_differences) == k and sum(verdict.splits_won.values()) == k
    assert 0.0 <= verdict.stability <= 1.0
    html = result.report_path.read_text()
    assert "Repeated splits" in html and f"{result.candidates[1].split_scores[2]:.4f}" in html
    data = result.to_dict()
    assert data["verdict"]["stability"] == verdict.stability and len(data["candidates"][2]["split_scores"]) == k


def test_a_margin_of_almost_nothing_never_asks_for_absurd_amounts_of_data():
    base = np.array([0.84, 0.86, 0.85, 0.83, 0.87])
    cands = [_with_splits(candidate("lightgbm", False, 0.3, 1e5), base),
             _with_splits(candidate("mlp", True, 0.3, 1e5), base + [0.002, -0.002, 0.001, -0.001, 0.0])]
    verdict = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0,
                             Circumstances(None, None, test_train_ratio=0.2, min_effect=1e-9))
    assert verdict.call == "inconclusive"
    assert "close to the margin" in verdict.to_decide and "as many rows (" not in verdict.to_decide
    called = float(verdict.to_decide.split("--min-effect ")[1].split(" ")[0])
    assert called >= max(abs(verdict.deep_vs_simple.low), abs(verdict.deep_vs_simple.high))
    again = decide_verdict("binary", "roc_auc", cands, False, 100.0, 200, 0,
                           Circumstances(None, None, test_train_ratio=0.2, min_effect=called))
    assert again.call == "equivalent"  # the --min-effect it names makes the call it says
    assert "e+" not in verdict.headline  # no number in scientific notation


def test_an_equivalent_deep_model_is_taken_only_when_it_saves_more_than_the_cost_tolerance():
    rng = np.random.default_rng(7)
    base = 0.85 + rng.normal(0, 0.01, 5)
    simple = _with_splits(candidate("lightgbm", False, 0.3, 0.5), base)  # 5 instances at peak: $368 a month
    deep = _with_splits(candidate("mlp", True, 0.3, 1e5), base + rng.normal(0, 0.002, 5))  # 1 instance: $73.58
    saves = decide_verdict("binary", "roc_auc", [simple, deep], False, 100.0, 200, 0)
    assert saves.call == "equivalent" and saves.recommended == "mlp", saves.headline
    assert "cheaper by more than --max-extra-cost" in saves.headline
    assert saves.summary[0].startswith("Use mlp, the deep model: it does as well")
    within = decide_verdict("binary", "roc_auc", [simple, deep], False, 500.0, 200, 0)
    assert within.call == "equivalent" and within.recommended == "lightgbm", within.headline
    assert "would save $294.34 / month, not surely more than --max-extra-cost ($500.00 / month)" in within.headline


def test_a_saving_in_review_labour_smaller_than_its_sampling_error_does_not_pick_the_deep_model():
    from depthgauge.cost.ownership import monthly_cost
    from tests.helpers.verdicts import TERMS

    rng = np.random.default_rng(3)
    base = 0.85 + rng.normal(0, 0.01, 5)
    simple = _with_splits(candidate("lightgbm", False, 0.3, 1e5), base)
    deep = _with_splits(candidate("mlp", True, 0.3, 1e5), base + rng.normal(0, 0.002, 5))
    for c in (simple, deep):
        c.risk = {"review_threshold": 0.6, "review_share": float(np.mean(c.outcome.proba.max(axis=1) < 0.6))}
        c.cost = monthly_cost(1.0, 1e5, 5.0, c.risk["review_share"], c.is_deep, TERMS)
    # the same rows, but 30 of the simple model's unsure ones made sure and 24 sure ones unsure: 6 fewer rows of
    # 3,000 to review, $1,000 a month, from 54 rows that differ either way
    confidence = simple.outcome.proba.max(axis=1)
    unsure, sure = np.flatnonzero(confidence < 0.6)[:30], np.flatnonzero(confidence >= 0.6)[:24]
    deep.outcome.proba = simple.outcome.proba.copy()
    deep.outcome.proba[unsure] = [[0.05, 0.95]] * len(unsure)
    deep.outcome.proba[sure] = [[0.45, 0.55]] * len(sure)
    deep.risk["review_share"] = float(np.mean(deep.outcome.proba.max(axis=1) < 0.6))
    deep.cost = monthly_cost(1.0, 1e5, 5.0, deep.risk["review_share"], True, TERMS)
    assert simple.cost.monthly_total_usd - deep.cost.monthly_total_usd == pytest.approx(1000.0)
    from depthgauge.assessment.verdict import review_error

    assert 1000.0 - review_error(deep, simple) < 100.0  # 6 rows net of 54 that differ: within the sampling error
    verdict = decide_verdict("binary", "roc_auc", [simple, deep], False, 100.0, 200, 0)
    assert verdict.call == "equivalent" and verdict.recommended == "lightgbm", verdict.headline


def test_more_rows_are_suggested_only_while_a_team_could_collect_them():
    from depthgauge.assessment.quality import Interval
    from depthgauge.assessment.verdict import _what_would_decide

    no_splits = {"splits": 0}
    near = _what_would_decide(Interval(0.02, -0.005, 0.045), 0.01, no_splits, 1000)
    assert near.startswith("About 6.3× as many rows (6,300 test rows) would likely decide it")
    far = _what_would_decide(Interval(0.011, -0.02, 0.042), 0.01, no_splits, 1000)
    assert "close to the margin" in far and "--min-effect 0.042" in far and "× as many rows" not in far


def test_an_inconclusive_call_gets_more_splits_until_it_is_settled_and_no_longer():
    import time

    from depthgauge.assessment.repeats import settle_with_more_splits

    rng = np.random.default_rng(4)
    difficulty = 0.85 + rng.normal(0, 0.01, 40)
    gain = 0.012 + rng.normal(0, 0.008, 40)  # deep learning better by about the margin's size, noisily
    simple = _with_splits(candidate("lightgbm", False, 0.3, 1e5), difficulty[:3])
    deep = _with_splits(candidate("mlp", True, 0.3, 1e5), difficulty[:3] + gain[:3])

    def decide():
        return decide_verdict("binary", "roc_auc", [simple, deep], False, 100.0, 200, 0,
                              Circumstances(None, None, test_train_ratio=0.2, min_effect=0.004))

    asked = []

    def one_more_split(index):  # what training and scoring split `index` would give each candidate
        asked.append(index)
        return {"lightgbm": [float(difficulty[index])], "mlp": [float(difficulty[index] + gain[index])]}

    assert decide().call == "inconclusive"
    verdict, added = settle_with_more_splits([simple, deep], "roc_auc", 0.2, decide, one_more_split, 0.01,
                                             time.perf_counter() + 60, 3, 20)
    assert verdict.call == "deep_better" and added == len(asked) and asked == list(range(3, 3 + added))
    assert len(deep.split_scores) == 3 + added
    assert deep.quality["roc_auc"].value == pytest.approx(np.mean(deep.split_scores))  # one set of numbers
    simple.split_scores, deep.split_scores = simple.split_scores[:-1], deep.split_scores[:-1]
    assert decide().call == "inconclusive"  # it stopped at the first split that settled the call
    late, none_added = settle_with_more_splits([simple, deep], "roc_auc", 0.2, decide, one_more_split, 5.0,
                                               time.perf_counter() + 1, 3 + added - 1, 20)
    assert none_added == 0 and late.call == "inconclusive"  # no split fits before the deadline: none is started

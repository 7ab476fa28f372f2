"""Candidates with given quality and throughput, for tests of the verdict."""

from __future__ import annotations

import numpy as np

from depthgauge.assessment.business import business_impact
from depthgauge.assessment.quality import Outcome, quality_with_intervals
from depthgauge.assessment.results import CandidateResult
from depthgauge.cost.catalog import load_catalog
from depthgauge.cost.ownership import CostTerms, monthly_cost

RNG = np.random.default_rng(0)
N = 3000
Y = RNG.integers(0, 2, N)

TERMS = CostTerms(load_catalog().get("aws.m7i.large"), 1_000_000)  # peak 1.14 rows/s: 2.3 rows/s fill an instance


def candidate(name, deep, signal, throughput, matrix=None):
    p = np.clip(Y * signal + RNG.random(N) * (1 - signal), 0, 1)
    outcome = Outcome(Y, (p > 0.5).astype(int), np.column_stack([1 - p, p]), 1)
    result = CandidateResult(name, name, name, deep, "ok", {}, fit_seconds=1.0)
    result.outcome = outcome
    result.quality = quality_with_intervals("binary", outcome, resamples=200)
    result.cost = monthly_cost(1.0, throughput, 5.0, 0.0, deep, TERMS)
    result.business = business_impact("binary", outcome, matrix, result.cost)
    return result

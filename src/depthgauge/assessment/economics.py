"""The money side of the verdict at other volumes: the rule that picks deep or simple once the quality call is made,
the break-even volume of the deep option, and whether the recommendation holds at a tenth and at ten times the
volume.

Everything is recomputed from what was measured (throughput, latency, fit time, calibrated review share, value per
prediction), with the same cost terms at another monthly volume: serving grows in whole instances, review and
value grow with the volume, retraining does not. The quality call itself does not depend on the volume, except
through `--value`'s break-even margin, which is held at the run's volume here.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from depthgauge.cost.ownership import CostTerms, monthly_cost

VOLUMES = np.unique(np.round(np.logspace(3, 10, 141)).astype(np.int64))  # 1,000 to 10 billion predictions a month
SENSITIVITY = (0.1, 10.0)


def deep_recommended(call: str, extra_cost: float, deep_net: float | None, simple_net: float | None,
                     review_error: float, value_given: bool, max_extra_cost: float) -> bool:
    """Return whether the money rule picks the deep model, given the quality call.

    - deep_better: it must pay for itself: worth more net of its cost by `--value`, or, without one, cost at most
      `--max-extra-cost` more once the review shares' sampling error is allowed for (the burden is on the cost).
    - equivalent: it must surely save more than `--max-extra-cost` (the saving less that error).
    - otherwise the simple model.
    """
    if call == "deep_better":
        if value_given:
            return deep_net > simple_net
        return extra_cost - review_error <= max_extra_cost
    if call == "equivalent":
        return -extra_cost - review_error > max_extra_cost
    return False


def cost_at(candidate, terms: CostTerms, volume: float) -> float:
    """Return the candidate's monthly cost of ownership at `volume` predictions a month."""
    ops = candidate.operations
    return monthly_cost(candidate.fit_seconds, ops.throughput_rows_per_s, ops.latency_p99_ms,
                        candidate.cost.review_share, candidate.is_deep,
                        replace(terms, monthly_volume=int(volume))).monthly_total_usd


def net_at(candidate, terms: CostTerms, volume: float) -> float:
    """Return what a month of the candidate's predictions is worth net of owning it (without --value: minus its
    cost)."""
    gross = candidate.business.get("gross_value_per_1k")
    return (gross or 0.0) * volume / 1000.0 - cost_at(candidate, terms, volume)


def curves(deep, simple, terms: CostTerms) -> dict:
    """Return monthly net value (or minus cost) of both options over `VOLUMES`, for the report's chart."""
    return {"volumes": VOLUMES.tolist(), "deep": [net_at(deep, terms, v) for v in VOLUMES],
            "simple": [net_at(simple, terms, v) for v in VOLUMES]}


def break_even_volume(deep, simple, terms: CostTerms) -> dict:
    """Return the monthly volume above which the deep model's extra value pays for its extra cost of ownership.

    {"volume": N or None, "says": "always" | "never" | "above N" | "below N"}: "always" when the deep model is worth
    more at every volume from 1,000 to 10 billion a month, "never" when at none. Needs a value matrix.
    """
    lead = np.array([net_at(deep, terms, v) - net_at(simple, terms, v) for v in VOLUMES])
    if np.all(lead > 0):
        return {"volume": None, "says": "always"}
    if np.all(lead <= 0):
        return {"volume": None, "says": "never"}
    # the last crossing: beyond it one side stays ahead up to 10 billion a month
    i = int(np.nonzero(np.sign(lead[1:]) != np.sign(lead[:-1]))[0][-1])
    low, high = float(VOLUMES[i]), float(VOLUMES[i + 1])
    ahead_low = lead[i] > 0
    for _ in range(40):
        middle = math.sqrt(low * high)
        if (net_at(deep, terms, middle) - net_at(simple, terms, middle) > 0) == ahead_low:
            low = middle
        else:
            high = middle
    volume = int(round(high))
    return {"volume": volume, "says": f"below {volume:,}" if ahead_low else f"above {volume:,}"}


def holds_at(call: str, deep, simple, terms: CostTerms, review_error: float, value_given: bool,
             max_extra_cost: float, recommended_deep: bool) -> dict:
    """Return, for a tenth and ten times the volume, whether the same option would be recommended."""
    out = {}
    for factor in SENSITIVITY:
        volume = terms.monthly_volume * factor
        deep_cost, simple_cost = cost_at(deep, terms, volume), cost_at(simple, terms, volume)
        deep_net = net_at(deep, terms, volume) if value_given else None
        simple_net = net_at(simple, terms, volume) if value_given else None
        choice = deep_recommended(call, deep_cost - simple_cost, deep_net, simple_net, review_error * factor,
                                  value_given, max_extra_cost)
        out[f"{factor:g}x"] = {"volume": int(volume), "holds": choice == recommended_deep,
                               "deep_recommended": choice}
    return out

"""Business impact: what the predictions are worth per month from the user's value matrix, net of owning the model,
against having no model at all.

"No model" is the majority/mean baseline's row with nothing to own: its decisions are the best constant action
(with calibrated probabilities and the value matrix's threshold, act on everyone or on no one, whichever is worth
more), which is what a team does without a model. A candidate worth less than that loses value against no model.
"""

from __future__ import annotations

import numpy as np

from depthgauge.assessment.options import ValueMatrix
from depthgauge.assessment.quality import Outcome
from depthgauge.cost.ownership import CostEstimate


def gross_value_per_1k(task: str, outcome: Outcome, matrix: ValueMatrix) -> float:
    """Return the average value of 1,000 predictions on the test rows, before cost."""
    return float(np.mean(value_per_row(task, outcome, matrix)) * 1000.0)


def value_per_row(task: str, outcome: Outcome, matrix: ValueMatrix) -> np.ndarray:
    """Return what each test row's prediction is worth by the value matrix, acting on calibrated decisions."""
    y, pred = outcome.y, outcome.acted
    if task == "binary":
        actual, said = y == outcome.positive, pred == outcome.positive
        per_row = (matrix.get("tp") * (actual & said) + matrix.get("fp") * (~actual & said)
                   + matrix.get("fn") * (actual & ~said) + matrix.get("tn") * (~actual & ~said))
    elif task == "multiclass":
        per_row = np.where(y == pred, matrix.get("correct"), matrix.get("wrong"))
    else:
        per_row = matrix.get("error") * np.abs(pred.astype(float) - y.astype(float))
    return per_row.astype(float)


def business_impact(task: str, outcome: Outcome, matrix: ValueMatrix | None, cost: CostEstimate) -> dict:
    """Return the value of a month of predictions at the user's volume, gross and net of the monthly cost."""
    if matrix is None:
        return {"value_matrix": None, "gross_value_per_1k": None, "monthly_value_usd": None,
                "monthly_net_value_usd": None}
    gross = gross_value_per_1k(task, outcome, matrix)
    monthly = gross * cost.monthly_volume / 1000.0
    return {"value_matrix": matrix.values, "gross_value_per_1k": gross, "monthly_value_usd": monthly,
            "monthly_net_value_usd": monthly - cost.monthly_total_usd}


def against_no_model(candidates: list) -> float | None:
    """Set each candidate's value over having no model (`vs_no_model_usd`) and return no model's monthly value.

    No model is worth the baseline's gross monthly value and costs nothing to own. None without a value matrix or
    without the majority/mean baseline.
    """
    baseline = next((c for c in candidates if c.ok and c.family == "dummy"), None)
    if baseline is None or baseline.business.get("monthly_value_usd") is None:
        return None
    none_worth = baseline.business["monthly_value_usd"]
    for c in candidates:
        if c.ok and c.business.get("monthly_net_value_usd") is not None:
            c.business["no_model_monthly_value_usd"] = none_worth
            c.business["vs_no_model_usd"] = c.business["monthly_net_value_usd"] - none_worth
    return none_worth

"""Business impact: value per 1,000 predictions from the user's value matrix, net of cost."""

from __future__ import annotations

import numpy as np

from depthgauge.assess.options import ValueMatrix
from depthgauge.assess.quality import Outcome


def gross_value_per_1k(task: str, outcome: Outcome, matrix: ValueMatrix) -> float:
    """Return the average value of 1,000 predictions on the test rows, before cost."""
    y, pred = outcome.y, outcome.pred
    if task == "binary":
        actual, said = y == outcome.positive, pred == outcome.positive
        per_row = (matrix.get("tp") * (actual & said) + matrix.get("fp") * (~actual & said)
                   + matrix.get("fn") * (actual & ~said) + matrix.get("tn") * (~actual & ~said))
    elif task == "multiclass":
        per_row = np.where(y == pred, matrix.get("correct"), matrix.get("wrong"))
    else:
        per_row = matrix.get("error") * np.abs(pred.astype(float) - y.astype(float))
    return float(np.mean(per_row) * 1000.0)


def business_impact(task: str, outcome: Outcome, matrix: ValueMatrix | None, cost_per_1k_usd: float) -> dict:
    if matrix is None:
        return {"value_matrix": None, "gross_value_per_1k": None, "net_value_per_1k": None}
    gross = gross_value_per_1k(task, outcome, matrix)
    return {"value_matrix": matrix.values, "gross_value_per_1k": gross, "net_value_per_1k": gross - cost_per_1k_usd}

"""A generated customer-churn table with numeric and categorical columns and a non-linear signal.

The process is documented so the data is realistic and reproducible: customers have a tenure,
monthly charges, support calls and a contract type; churn risk rises with support calls and
charges, falls with tenure, interacts with contract type, and carries label noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def churn_table(n_rows: int = 2000, n_features: int = 12, seed: int = 0) -> pd.DataFrame:
    """Return `n_rows` customers with `n_features` feature columns and a binary `churned` target."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, n_rows).round(1)
    charges = rng.normal(70, 25, n_rows).clip(10, 200).round(2)
    calls = rng.poisson(1.5, n_rows)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n_rows, p=[0.55, 0.25, 0.20])
    region = rng.choice(["north", "south", "east", "west", "central"], n_rows)
    contract_risk = pd.Series(contract).map({"month-to-month": 1.2, "one-year": -0.3, "two-year": -1.2}).to_numpy()
    logit = (
        -1.0
        + 0.55 * calls
        - 0.045 * tenure
        + 0.02 * (charges - 70)
        + contract_risk
        + 0.8 * np.sin(charges / 15.0) * (calls > 2)
        + 0.6 * ((tenure < 6) & (contract == "month-to-month"))
    )
    columns = {
        "tenure_months": tenure,
        "monthly_charges": charges,
        "support_calls": calls,
        "contract": contract,
        "region": region,
    }
    extra = max(0, n_features - len(columns))
    for i in range(extra):
        if i % 4 == 3:
            columns[f"segment_{i}"] = rng.choice([f"s{k}" for k in range(8)], n_rows)
        else:
            values = rng.normal(0, 1, n_rows)
            if i % 5 == 0:
                logit = logit + 0.35 * np.tanh(values * 2)
            columns[f"usage_{i}"] = values.round(4)
    probability = 1 / (1 + np.exp(-logit))
    columns["churned"] = np.where(rng.random(n_rows) < probability, "yes", "no")
    return pd.DataFrame(columns)

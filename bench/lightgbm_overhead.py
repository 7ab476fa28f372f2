"""Our LightGBM candidate against a bare `lightgbm.train` with the same parameters on the same data.

Both train with the same early stopping on the same validation rows. The candidate's time
includes its own encoding of the raw table; the bare run starts from the already-encoded
matrix. Goal: candidate ≤ 1.1× bare. Run: .venv/bin/python bench/lightgbm_overhead.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import lightgbm as lgb

sys.path.insert(0, str(Path(__file__).parent))
from _common import prepared_churn, write_result  # noqa: E402

from depthgauge.zoo.gbdt import DEFAULTS, LightGBMModel, lightgbm_params  # noqa: E402

REPEATS = 5


def main() -> None:
    roles, X, y, split = prepared_churn()
    X_train, X_val = X.iloc[split.train], X.iloc[split.validation]
    y_train, y_val = y[split.train], y[split.validation]

    reference = LightGBMModel("binary", roles).fit(X_train, y_train, validation=(X_val, y_val))
    train_matrix, val_matrix = reference.design(X_train), reference.design(X_val)
    codes = {c: i for i, c in enumerate(reference.classes_)}
    train_labels = [codes[v] for v in y_train]
    val_labels = [codes[v] for v in y_val]
    categorical = reference._categorical_indices()
    params = lightgbm_params("binary", 2, 0, {})

    ours, bare, rounds = [], [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        model = LightGBMModel("binary", roles).fit(X_train, y_train, validation=(X_val, y_val))
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        train = lgb.Dataset(train_matrix, train_labels, categorical_feature=categorical)
        valid = lgb.Dataset(val_matrix, val_labels, categorical_feature=categorical, reference=train)
        booster = lgb.train(params, train, num_boost_round=DEFAULTS["max_rounds"], valid_sets=[valid],
                            callbacks=[lgb.early_stopping(DEFAULTS["early_stopping_rounds"], verbose=False)])
        bare.append(time.perf_counter() - started)
        rounds.append((model.best_iteration_, booster.best_iteration))
    ratio = statistics.median(ours) / statistics.median(bare)
    write_result("lightgbm_overhead", {
        "data": "generated churn 100000 x 50 (70% train)", "repeats": REPEATS,
        "candidate_fit_s": [round(t, 3) for t in ours], "bare_lightgbm_train_s": [round(t, 3) for t in bare],
        "best_iterations_candidate_vs_bare": rounds, "ratio_median": round(ratio, 3),
        "goal": "ratio <= 1.1", "goal_met": ratio <= 1.1,
    })


if __name__ == "__main__":
    main()

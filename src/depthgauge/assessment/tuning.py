"""Hyperparameter search with Ray Tune for the trees and the deep model, inside the time budget.

`assess --tune N` spends part of the fitting time on N random trials per tuned family (LightGBM
and the MLP). A trial fits on the training split and reports its loss on the validation split
(log loss, or RMSE for regression); the test split is never seen. The best parameters then go
to the ordinary candidate fit, and are recorded in the candidate's parameters (so `retrain`
reruns the tuned recipe). Trials send back numbers only, never a model.
"""

from __future__ import annotations

import tempfile

import numpy as np

from depthgauge.errors import DepthgaugeError

TUNED = ("lightgbm", "mlp")


def _spaces():
    from ray import tune

    return {
        "lightgbm": {"learning_rate": tune.loguniform(0.02, 0.2), "num_leaves": tune.randint(8, 128),
                     "min_data_in_leaf": tune.randint(5, 100), "feature_fraction": tune.uniform(0.5, 1.0),
                     "lambda_l2": tune.loguniform(1e-3, 10.0)},
        "mlp": {"hidden": tune.choice([64, 128, 256, 512]), "depth": tune.randint(1, 5),
                "dropout": tune.uniform(0.0, 0.4), "learning_rate": tune.loguniform(3e-4, 3e-3),
                "weight_decay": tune.loguniform(1e-6, 1e-3)},
    }


def validation_loss(model, task: str, X_val, y_val) -> float:
    """Return the model's loss on the validation split: log loss for classifiers, RMSE for regressors."""
    if task == "regression":
        return float(np.sqrt(np.mean((np.asarray(model.predict(X_val), float) - np.asarray(y_val, float)) ** 2)))
    proba = model.predict_proba(X_val)
    index = {c: i for i, c in enumerate(model.classes_)}
    rows = np.arange(len(y_val))
    picked = proba[rows, [index.get(v, 0) for v in y_val]]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def _trial(config: dict, family: str, task: str, roles: dict, seed: int, time_limit_s: float, data) -> None:
    from ray import tune

    from depthgauge.zoo import FAMILIES

    X_train, y_train, X_val, y_val = data
    model = FAMILIES[family](task, roles, seed=seed, time_limit_s=time_limit_s, **config)
    model.fit(X_train, y_train, validation=(X_val, y_val))
    tune.report({"loss": validation_loss(model, task, X_val, y_val)})


def tune_families(families: list[str], task: str, roles: dict, seed: int, trials: int, budget_s: float, data: tuple,
                  address: str | None = None) -> dict[str, dict]:
    """Return, per tuned family, the best parameters found in `trials` random trials within `budget_s` seconds."""
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    from depthgauge.assessment.executors import _start_ray

    if trials < 1:
        raise DepthgaugeError(f"--tune takes a number of trials of at least 1, not {trials}.")
    ray = _start_ray(address)
    cpus = max(int(ray.available_resources().get("CPU", 1)), 1)
    chosen = [f for f in families if f in TUNED]
    found = {}
    for family in chosen:
        share_s = budget_s / len(chosen)
        waves = -(-trials // cpus)
        # Each trial's own deadline keeps the search inside its share; 30% is left for starting the trials.
        per_trial_s = max(0.7 * share_s / waves, 1.0)
        trainable = tune.with_parameters(_trial, family=family, task=task, roles=roles, seed=seed,
                                         time_limit_s=per_trial_s, data=data)
        with tempfile.TemporaryDirectory(prefix="depthgauge-tune-") as storage:
            tuner = tune.Tuner(
                tune.with_resources(trainable, {"cpu": 1}), param_space=_spaces()[family],
                tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=trials,
                                            search_alg=BasicVariantGenerator(random_state=seed)),
                run_config=tune.RunConfig(storage_path=storage, name=family, verbose=0),
            )
            grid = tuner.fit()
            done = [r for r in grid if r.error is None and r.metrics and "loss" in r.metrics]
            if not done:
                found[family] = {"params": {}, "trials": 0, "best_validation_loss": None}
                continue
            best = min(done, key=lambda r: r.metrics["loss"])
            params = {k: (v.item() if hasattr(v, "item") else v) for k, v in best.config.items()}
            found[family] = {"params": params, "trials": len(done), "best_validation_loss": best.metrics["loss"]}
    return found

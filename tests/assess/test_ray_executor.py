"""Candidates trained as Ray tasks on a local Ray with 2 CPUs come out the same as trained one after another."""

import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.errors import DepthgaugeError
from tests.helpers.cli import run_cli

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_the_ray_executor_gives_the_local_executors_results_for_the_same_seed(local_ray, tmp_path):
    data = churn_table(800, 8, seed=4)
    # one split each: Ray fits one split, and the same seed only means the same models at the same time slices
    runs = {executor: depthgauge.assess(data, target="churned", time_budget="90s", home=tmp_path / executor,
                                        resamples=200, executor=executor, name="churn", repeats=1)
            for executor in ("local", "ray")}
    local, remote = runs["local"], runs["ray"]
    assert [c.name for c in remote.candidates] == [c.name for c in local.candidates]
    for a, b in zip(local.candidates, remote.candidates, strict=True):
        assert a.status == b.status == "ok", (a.name, b.error)
        # A Ray task runs torch on 1 thread, this process on 2: float sums in TabM's batched kernels then round
        # differently, so deep models agree to the epoch and closely in score, the others exactly.
        tolerance, flips = (2e-3, 0.02) if a.is_deep else (1e-9, 1e-9)  # 0.02: a few of the 160 test rows
        assert b.params.get("epochs") == a.params.get("epochs"), a.name
        assert b.quality["roc_auc"].value == pytest.approx(a.quality["roc_auc"].value, abs=tolerance), a.name
        assert b.quality["accuracy"].value == pytest.approx(a.quality["accuracy"].value, abs=flips), a.name
    assert remote.verdict.recommended == local.verdict.recommended
    assert remote.options["executor"] == "ray"
    mlp = next(c for c in remote.candidates if c.name == "mlp")
    assert mlp.learning_curve and len(mlp.learning_curve["val_loss"]) == len(
        next(c for c in local.candidates if c.name == "mlp").learning_curve["val_loss"])
    served = depthgauge.load_model("churn:4", home=tmp_path / "ray")  # registered in the safe formats as usual
    assert served.model.family == "lightgbm"


def test_an_unknown_executor_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(DepthgaugeError, match="Unknown executor 'spark'"):
        depthgauge.assess(churn_table(200, 6), target="churned", executor="spark", home=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()
    data = tmp_path / "d.csv"
    churn_table(200, 6).to_csv(data, index=False)
    result = run_cli("--home", str(tmp_path / "ws2"), "assess", str(data), "--target", "churned", "--executor", "dask")
    assert result.returncode == 2 and "Unknown executor 'dask'" in result.stderr


def test_tuning_searches_within_the_budget_and_the_candidates_use_what_it_found(local_ray, tmp_path):
    assessment = depthgauge.assess(churn_table(600, 8, seed=6), target="churned", time_budget="60s",
                                   home=tmp_path / "ws", resamples=200, tune=2, candidates=("dummy", "lightgbm", "mlp"))
    tuning = assessment.options["tuning"]
    assert set(tuning) == {"lightgbm", "mlp"}
    for family, found in tuning.items():
        assert found["trials"] == 2 and found["best_validation_loss"] > 0
        candidate = next(c for c in assessment.candidates if c.name == family)
        assert candidate.status == "ok"
        assert {k: candidate.params[k] for k in found["params"]} == found["params"]
    lightgbm = tuning["lightgbm"]["params"]
    assert 8 <= lightgbm["num_leaves"] < 128 and 0.02 <= lightgbm["learning_rate"] <= 0.2
    assert tuning["mlp"]["params"]["hidden"] in (64, 128, 256, 512)
    assert assessment.duration_s <= 60 * 1.1


def test_a_negative_number_of_trials_is_refused(tmp_path):
    with pytest.raises(DepthgaugeError, match="--tune takes a number of trials"):
        depthgauge.assess(churn_table(200, 6), target="churned", tune=-1, home=tmp_path / "ws")


def test_the_mlp_trains_data_parallel_on_two_ray_train_workers(local_ray, tmp_path):
    assessment = depthgauge.assess(churn_table(800, 8, seed=7), target="churned", time_budget="90s",
                                   home=tmp_path / "ws", resamples=200, workers=2, candidates=("dummy", "mlp"),
                                   name="churn")
    mlp = next(c for c in assessment.candidates if c.name == "mlp")
    assert mlp.status == "ok", mlp.error
    assert mlp.params["data_parallel_workers"] == 2 and mlp.params["train_rows_per_s"] > 0
    assert mlp.learning_curve["stopped_because"] in ("early_stopping", "max_epochs", "time_budget")
    assert mlp.quality["roc_auc"].value > 0.6, "two workers still learn the signal"
    assert assessment.options["workers"] == 2
    served = depthgauge.load_model("churn:2", home=tmp_path / "ws")
    assert served.model.family == "mlp"
    with pytest.raises(DepthgaugeError, match="--workers takes"):
        depthgauge.assess(churn_table(200, 6), target="churned", workers=0, home=tmp_path / "other")

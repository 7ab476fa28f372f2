"""Candidates trained as Ray tasks on a local Ray with 2 CPUs come out the same as trained one after another."""

import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.errors import DepthgaugeError
from tests.conftest import run_cli

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_the_ray_executor_gives_the_local_executors_results_for_the_same_seed(local_ray, tmp_path):
    data = churn_table(800, 8, seed=4)
    runs = {executor: depthgauge.assess(data, target="churned", time_budget="90s", home=tmp_path / executor,
                                        resamples=200, executor=executor, name="churn")
            for executor in ("local", "ray")}
    local, remote = runs["local"], runs["ray"]
    assert [c.name for c in remote.candidates] == [c.name for c in local.candidates]
    for a, b in zip(local.candidates, remote.candidates, strict=True):
        assert a.status == b.status == "ok", (a.name, b.error)
        assert b.quality["roc_auc"].value == pytest.approx(a.quality["roc_auc"].value, abs=1e-9), a.name
        assert b.quality["accuracy"].value == pytest.approx(a.quality["accuracy"].value, abs=1e-9), a.name
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

"""Where candidates train: one after another in this process ("local"), or in parallel as Ray tasks ("ray").

A Ray task trains one candidate and returns it in the registry's safe format (the files its
`save` writes: JSON, safetensors, LightGBM text) as bytes; the driver loads it with the same
loader as the registry. Our code never pickles a model; Ray moves the bytes and the training
data between its processes with its own transport. Each task gets the same seed and code path
as the local executor, so a candidate that stops on its validation split (not on the clock)
comes out the same.

Ray starts locally (dashboard off, nothing listening beyond loopback) unless `ray_address`
names a running cluster.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from pathlib import Path

from depthgauge.errors import DepthgaugeError

EXECUTORS = ("local", "ray")


def check_executor(executor: str) -> str:
    if executor not in EXECUTORS:
        raise DepthgaugeError(f"Unknown executor '{executor}'. Use 'local' (the default) or 'ray'.")
    if executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise DepthgaugeError("--executor ray needs Ray: pip install 'depthgauge[ray]'.") from None
    return executor


def _train_one(family: str, task: str, roles: dict, seed: int, time_limit_s: float, params: dict, X_train, y_train,
               X_val, y_val) -> dict:
    """Train one candidate; return its saved files, fit time and peak memory (or the error), nothing pickled by us."""
    from depthgauge.assessment import operations
    from depthgauge.zoo import FAMILIES

    model = FAMILIES[family](task, roles, seed=seed, time_limit_s=max(time_limit_s, 0.0), **params)
    try:
        with operations.PeakMemory() as memory:
            started = time.perf_counter()
            model.fit(X_train, y_train, validation=(X_val, y_val))
            fit_seconds = time.perf_counter() - started
    except DepthgaugeError:
        raise
    except Exception as exc:  # reported, never hidden, as in the local executor
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)}
    with tempfile.TemporaryDirectory(prefix="depthgauge-ray-") as scratch:
        folder = model.save(Path(scratch) / family)
        files = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
    result = {"status": "ok", "files": files, "fit_seconds": fit_seconds, "peak_mb": memory.peak_mb,
              "training": model.training_summary()}
    history = getattr(model, "history_", None)
    if history is not None:  # the learning curve is not part of the saved model
        result["history"] = {"train_loss": list(history.train_loss), "val_loss": list(history.val_loss),
                             "best_epoch": history.best_epoch, "stopped_because": history.stopped_because}
    return result


def _start_ray(address: str | None):
    import ray

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    return ray


def train_on_ray(candidates: list[str], task: str, roles: dict, seed: int, fit_s: float, data: tuple,
                 address: str | None = None, params: dict[str, dict] | None = None) -> dict[str, dict]:
    """Train every candidate as a Ray task, at most as many at once as the cluster has CPUs; return results by name."""
    ray = _start_ray(address)
    cpus = max(int(ray.available_resources().get("CPU", 1)), 1)
    waves = -(-len(candidates) // cpus)  # candidates share the fitting time in waves of `cpus` at a time
    slice_s = fit_s / waves
    remote = ray.remote(num_cpus=1)(_train_one)
    shared = [ray.put(part) for part in data]
    futures = {name: remote.remote(name, task, roles, seed, slice_s, (params or {}).get(name, {}), *shared)
               for name in candidates}
    return {name: ray.get(future) for name, future in futures.items()}


def load_trained(family: str, outcome: dict):
    """Return the model from the files a Ray task sent back, through the registry's safe loader."""
    from types import SimpleNamespace

    from depthgauge.zoo import load_model

    with tempfile.TemporaryDirectory(prefix="depthgauge-ray-") as scratch:
        folder = Path(scratch) / family
        folder.mkdir()
        for name, content in outcome["files"].items():
            if "/" in name or "\\" in name or name in (".", ".."):
                raise DepthgaugeError(f"A Ray task sent back an unsafe file name '{name}'.")
            (folder / name).write_bytes(content)
        model = load_model(folder)
    if "history" in outcome:
        model.history_ = SimpleNamespace(**outcome["history"])
    return model


def _ddp_worker(config: dict) -> None:
    """One Ray Train worker: fit the MLP on this process's share of each batch; rank 0 reports the saved model."""
    import ray.train

    from depthgauge.zoo import FAMILIES

    context = ray.train.get_context()
    X_train, y_train, X_val, y_val = (ray.get(ref) for ref in config["data"])
    model = FAMILIES["mlp"](config["task"], config["roles"], seed=config["seed"], time_limit_s=config["time_limit_s"],
                            **config["params"])
    model.data_parallel = (context.get_world_rank(), context.get_world_size())
    started = time.perf_counter()
    model.fit(X_train, y_train, validation=(X_val, y_val))
    seconds = time.perf_counter() - started
    history = model.history_
    metrics = {"fit_seconds": seconds, "rows_seen": history.rows_seen, "train_seconds": history.seconds,
               "history": {"train_loss": list(history.train_loss), "val_loss": list(history.val_loss),
                           "best_epoch": history.best_epoch, "stopped_because": history.stopped_because}}
    if context.get_world_rank() == 0:
        with tempfile.TemporaryDirectory(prefix="depthgauge-ddp-") as scratch:
            folder = model.save(Path(scratch) / "mlp")
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(str(folder)))
    else:
        ray.train.report(metrics)


def train_mlp_data_parallel(task: str, roles: dict, seed: int, time_limit_s: float, data: tuple, workers: int,
                            params: dict | None = None, address: str | None = None) -> dict:
    """Train the MLP with Ray Train on `workers` processes (DDP, gloo on CPU); return it as a Ray task would."""
    ray = _start_ray(address)
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    with tempfile.TemporaryDirectory(prefix="depthgauge-train-") as storage:
        trainer = TorchTrainer(
            _ddp_worker,
            train_loop_config={"task": task, "roles": roles, "seed": seed, "time_limit_s": time_limit_s,
                               "params": params or {}, "data": [ray.put(part) for part in data]},
            scaling_config=ScalingConfig(num_workers=workers, use_gpu=False, resources_per_worker={"CPU": 1}),
            torch_config=TorchConfig(backend="gloo"),
            run_config=RunConfig(storage_path=storage, name="mlp"),
        )
        result = trainer.fit()
        if result.error is not None:
            return {"status": "failed", "error": f"{type(result.error).__name__}: {result.error}", "traceback": ""}
        with result.checkpoint.as_directory() as folder:
            files = {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir()) if path.is_file()}
    metrics = result.metrics
    return {"status": "ok", "files": files, "fit_seconds": metrics["fit_seconds"], "peak_mb": 0.0,
            "history": metrics["history"], "rows_seen": metrics["rows_seen"], "train_seconds": metrics["train_seconds"],
            "workers": workers}

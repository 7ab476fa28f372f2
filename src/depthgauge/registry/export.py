"""`depthgauge models export`: a registered version as a folder that leaves depthgauge's workspace.

- `folder`: the artifact itself (weights in safetensors or LightGBM text, preprocessing as JSON),
  its input schema and its model card; `depthgauge.load_model(DIR)` loads it without a workspace.
- `onnx`: `model.onnx`, one graph of preprocessing and model for the linear, LightGBM and MLP
  families (see `registry/onnx_graph.py`), with the input schema and the model card beside it.
- `mlflow`: an MLflow pyfunc model folder (`MLmodel`, the loader module in `code/`, the folder
  export in `model/`), which `mlflow.pyfunc.load_model` loads and predicts with; no pickle. It
  carries no MLflow signature: MLflow's would refuse an int64 column for a float feature, and
  the loader applies depthgauge's own input contract (`input_schema.json`) instead.

The export is written into a scratch folder beside the target and renamed into place at the end,
so a failed export leaves nothing half-written, and an existing non-empty folder is never touched.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

from depthgauge.errors import DepthgaugeError

FORMATS = ("folder", "onnx", "mlflow")


def export_model(reference: str, to: str | os.PathLike, fmt: str = "folder", home=None) -> dict:
    """Export the version `reference` into the new folder `to` in format `fmt`; return what was written."""
    from depthgauge.registry import api
    from depthgauge.registry.predictor import load_model

    if fmt not in FORMATS:
        raise DepthgaugeError(f"Unknown export format '{fmt}'. Use one of: {', '.join(FORMATS)}.")
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise DepthgaugeError("ONNX export needs the onnx package: pip install 'depthgauge[onnx]' "
                                  "(onnxruntime included, to run the graph).") from None
    target = Path(to)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DepthgaugeError(f"'{target}' already exists and is not an empty folder; nothing was written. "
                              "Pass --to with a new or empty folder.")
    predictor = load_model(reference, home=home)  # resolves the reference and verifies every file's digest
    detail = api.show(str(reference), home)
    graph = None
    if fmt == "onnx":  # built before anything is written: a family without an ONNX form writes nothing
        from depthgauge.registry.onnx_graph import model_to_onnx

        graph = model_to_onnx(predictor.model, detail["ref"])
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".{target.name}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    try:
        model_dir = scratch / "model" if fmt == "mlflow" else scratch
        if graph is not None:
            _write_onnx(graph, predictor, detail, scratch, home)
        else:
            _write_folder(predictor, detail, model_dir, home)
        if fmt == "mlflow":
            _write_mlflow(predictor, detail, scratch)
        if target.exists():
            target.rmdir()  # empty, checked above
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return {"ref": detail["ref"], "family": detail["family"], "format": fmt, "to": str(target),
            "files": sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())}


def _write_folder(predictor, detail: dict, folder: Path, home) -> None:
    from depthgauge.registry import api
    from depthgauge.version import __version__

    # plain copies: the workspace's private file modes stay there; the export gets the user's usual ones
    shutil.copytree(predictor.artifact_dir, folder, dirs_exist_ok=True, copy_function=shutil.copyfile)
    (folder / "input_schema.json").write_text(json.dumps(predictor.input_schema, indent=2, default=str))
    markdown, html_card = api.write_model_card(detail["ref"], home, folder / "card")
    markdown.rename(folder / "MODEL_CARD.md")
    html_card.rename(folder / "MODEL_CARD.html")
    (folder / "card").rmdir()
    (folder / "EXPORT.json").write_text(json.dumps({
        "ref": detail["ref"], "family": detail["family"], "artifact_digest": detail["artifact_digest"],
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "depthgauge_version": __version__,
        "load_with": "depthgauge.load_model(THIS_FOLDER)",
    }, indent=2))


def _write_onnx(graph, predictor, detail: dict, folder: Path, home) -> None:
    from depthgauge.registry import api
    from depthgauge.version import __version__

    (folder / "model.onnx").write_bytes(graph.SerializeToString())
    (folder / "input_schema.json").write_text(json.dumps(predictor.input_schema, indent=2, default=str))
    markdown, html_card = api.write_model_card(detail["ref"], home, folder / "card")
    markdown.rename(folder / "MODEL_CARD.md")
    html_card.rename(folder / "MODEL_CARD.html")
    (folder / "card").rmdir()
    meta = json.loads(next(p.value for p in graph.metadata_props if p.key == "depthgauge"))
    (folder / "EXPORT.json").write_text(json.dumps({
        "ref": detail["ref"], "family": detail["family"], "artifact_digest": detail["artifact_digest"],
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "depthgauge_version": __version__,
        "load_with": "onnxruntime.InferenceSession('model.onnx')",
        "inputs": meta["inputs"], "input_shape": "(n, 1) per column", "output": meta["output"],
        "classes": meta["classes"],
    }, indent=2))


def _write_mlflow(predictor, detail: dict, folder: Path) -> None:
    import yaml

    from depthgauge.version import __version__

    code = folder / "code"
    code.mkdir()
    shutil.copyfile(Path(__file__).with_name("pyfunc.py"), code / "depthgauge_pyfunc.py")
    python = platform.python_version()
    meta = {
        "flavors": {
            "python_function": {"loader_module": "depthgauge_pyfunc", "code": "code", "data": "model",
                                "env": {"virtualenv": "python_env.yaml"}, "python_version": python},
            "depthgauge": {"ref": detail["ref"], "family": detail["family"], "depthgauge_version": __version__},
        },
        "model_uuid": uuid.uuid4().hex,
        "utc_time_created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(meta, sort_keys=False))
    (folder / "requirements.txt").write_text(f"depthgauge=={__version__}\n")
    (folder / "python_env.yaml").write_text(yaml.safe_dump({
        "python": python, "build_dependencies": ["pip"], "dependencies": ["-r requirements.txt"]}, sort_keys=False))

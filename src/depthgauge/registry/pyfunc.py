"""The MLflow pyfunc loader of an exported depthgauge model (copied into the export as `code/depthgauge_pyfunc.py`).

MLflow calls `_load_pyfunc(data_path)` with the export's `model/` folder. The model loads from
safetensors, LightGBM text and JSON through `load_model`; nothing is unpickled. Inputs
are checked by the same input contract as depthgauge's own service.
"""

from __future__ import annotations


class DepthgaugePyfunc:
    """What MLflow's `PyFuncModel` wraps: `predict(DataFrame)` returns a label or value per row."""

    def __init__(self, path: str):
        from depthgauge.registry.predictor import load_model

        self.predictor = load_model(path)

    def predict(self, model_input, params=None):
        import pandas as pd

        return pd.Series(self.predictor.predict(model_input), name="prediction")


def _load_pyfunc(data_path: str) -> DepthgaugePyfunc:
    return DepthgaugePyfunc(data_path)

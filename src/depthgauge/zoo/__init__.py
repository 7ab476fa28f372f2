"""The candidate zoo: one estimator protocol, one module per model family."""

from __future__ import annotations

import json
from pathlib import Path

from depthgauge.errors import DepthgaugeError
from depthgauge.zoo.anomaly import AutoencoderModel, IsolationForestModel
from depthgauge.zoo.dummy import DummyModel
from depthgauge.zoo.gbdt import LightGBMModel
from depthgauge.zoo.graph import GraphSAGEModel
from depthgauge.zoo.image import CNNModel, PixelLightGBMModel, PixelLinearModel
from depthgauge.zoo.linear import LinearModel
from depthgauge.zoo.mlp import MLPModel
from depthgauge.zoo.model import MODEL_FILE, ZooModel
from depthgauge.zoo.rules import RulesModel
from depthgauge.zoo.series import GRUForecast, NaiveForecast, SeasonalNaiveForecast
from depthgauge.zoo.tabm import TabMModel
from depthgauge.zoo.text import MiniLMModel, MiniLMTunedModel, TfidfModel

FAMILIES: dict[str, type[ZooModel]] = {
    cls.family: cls for cls in (
        DummyModel, LinearModel, RulesModel, LightGBMModel, MLPModel, TabMModel,
        TfidfModel, MiniLMModel, MiniLMTunedModel,
        PixelLinearModel, PixelLightGBMModel, CNNModel,
        NaiveForecast, SeasonalNaiveForecast, GRUForecast,
        IsolationForestModel, AutoencoderModel,
        GraphSAGEModel,
    )
}
TABULAR_CANDIDATES = ("dummy", "linear", "rules", "lightgbm", "mlp", "tabm")
# The simple rivals first, then the deep models, for every kind of data (see data/kinds.py).
CANDIDATES = {
    "table": TABULAR_CANDIDATES,
    "text": ("dummy", "tfidf", "minilm", "minilm_tuned"),
    "image": ("dummy", "pixels_linear", "pixels_lightgbm", "cnn"),
    "series": ("naive", "seasonal_naive", "linear", "lightgbm", "gru"),
    "anomaly": ("isolation_forest", "autoencoder"),
    "graph": ("dummy", "linear", "lightgbm", "gnn"),
}


def load_model(folder: str | Path) -> ZooModel:
    """Return the model saved in `folder`, whatever its family."""
    path = Path(folder) / MODEL_FILE
    if not path.exists():
        raise DepthgaugeError(f"No {MODEL_FILE} in '{folder}': this is not a saved depthgauge model.")
    family = json.loads(path.read_text()).get("family")
    if family not in FAMILIES:
        raise DepthgaugeError(f"'{folder}' holds an unknown model family {family!r}; known: {', '.join(FAMILIES)}.")
    try:
        return FAMILIES[family].load(folder)
    except (DepthgaugeError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a damaged or crafted file: refuse it with a reason, never run it
        raise DepthgaugeError(
            f"The {family} model in '{folder}' cannot be loaded ({type(exc).__name__}: {exc}). "
            "Its files are not a valid depthgauge artifact; nothing in them was executed. Re-create the model."
        ) from exc


__all__ = ["CANDIDATES", "FAMILIES", "TABULAR_CANDIDATES", "ZooModel", "load_model"]

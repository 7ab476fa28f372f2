"""Forecasting families on a window of lags: naive, seasonal naive, and a GRU trained by the shared loop.

A forecasting row holds `lag_1` (the latest observed value) to `lag_L` and asks for the value
`horizon` steps after `lag_1`. Linear models and LightGBM read the same lag columns as any table.
"""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from depthgauge.data.series import lag_names, seasonal_lag
from depthgauge.train.loop import TrainConfig, train_module
from depthgauge.zoo.model import ZooModel
from depthgauge.zoo.networks import loss_for

WEIGHTS = "gru.safetensors"


class LagModel(ZooModel):
    """Reads the lag columns directly (no encoder); missing lags are filled from the nearest newer one."""

    uses_encoder = False

    @property
    def window(self) -> int:
        return int(self.params["window"])

    def lags(self, X) -> np.ndarray:
        """Return (n, window) float values, oldest first."""
        values = X[lag_names(self.window)[::-1]].apply(lambda c: c.astype(float)).to_numpy(np.float64)
        filled = values.copy()
        for j in range(filled.shape[1] - 2, -1, -1):  # back-fill from the newer neighbour
            gaps = np.isnan(filled[:, j])
            filled[gaps, j] = filled[gaps, j + 1]
        return filled

    def input_schema(self) -> dict:
        self._check_fitted()
        low, high = self.range_
        return {"task": self.task, "classes": None, "window": self.window, "horizon": self.params["horizon"],
                "columns": [{"name": name, "type": "number", "min": low, "max": high, "nullable": True}
                            for name in lag_names(self.window)]}

    def _fit(self, X, y, validation):
        lags = self.lags(X)
        self.range_ = (float(np.nanmin(lags)), float(np.nanmax(lags)))
        self._fit_lags(lags, y, validation)

    def _fit_lags(self, lags, y, validation) -> None:
        pass

    def _extra_state(self):
        return {"range": list(self.range_)}

    def _load_weights(self, folder, extra):
        self.range_ = tuple(extra["range"])


class NaiveForecast(LagModel):
    family = "naive"
    instant = True
    display_name = "Naive forecast (last value)"
    explainability = "intrinsic"

    def _predict_raw(self, X):
        return self.lags(X)[:, -1]


class SeasonalNaiveForecast(LagModel):
    family = "seasonal_naive"
    instant = True
    display_name = "Seasonal naive forecast"
    explainability = "intrinsic"

    def _predict_raw(self, X):
        lag = seasonal_lag(int(self.params["season"]), int(self.params["horizon"]))
        return self.lags(X)[:, -lag]


class _GRU(nn.Module):
    def __init__(self, hidden: int, layers: int):
        super().__init__()
        self.gru = nn.GRU(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(window.unsqueeze(-1))
        return self.head(out[:, -1])


class GRUForecast(LagModel):
    """A GRU reads the window oldest first and predicts the change from the latest value, in standard units."""

    family = "gru"
    display_name = "GRU (deep)"
    is_deep = True
    explainability = "none"

    def _module(self) -> _GRU:
        return _GRU(self.params.get("hidden", 64), self.params.get("layers", 1))

    def _scaled(self, lags) -> torch.Tensor:
        return torch.from_numpy(((lags - self.mean_) / self.std_).astype(np.float32))

    def _change(self, lags, y) -> torch.Tensor:
        return torch.from_numpy(((np.asarray(y, float) - lags[:, -1]) / self.std_).astype(np.float32))

    def _fit_lags(self, lags, y, validation):
        torch.manual_seed(self.seed)
        self.mean_, self.std_ = float(np.mean(lags)), float(np.std(lags) or 1.0)
        self.module_ = self._module()
        val_inputs = val_target = None
        if validation is not None:
            val_lags = self.lags(validation[0])
            val_inputs, val_target = (self._scaled(val_lags),), self._change(val_lags, validation[1])
        config = TrainConfig(max_epochs=self.params.get("max_epochs", 200), batch_size=64,
                             learning_rate=self.params.get("learning_rate", 2e-3), weight_decay=1e-5,
                             patience=self.params.get("patience", 10), seed=self.seed, time_limit_s=self.time_limit_s)
        self.history_ = train_module(self.module_, loss_for("regression"), (self._scaled(lags),), self._change(lags, y), val_inputs,
                                     val_target, config)

    def _predict_raw(self, X):
        lags = self.lags(X)
        with torch.no_grad():
            change = self.module_(self._scaled(lags))[:, 0].double().numpy() if len(lags) else np.zeros(0)
        return lags[:, -1] + change * self.std_

    def _extra_state(self):
        return {"range": list(self.range_), "mean": self.mean_, "std": self.std_}

    def _save_weights(self, folder):
        save_file({k: v.contiguous() for k, v in self.module_.state_dict().items()}, str(folder / WEIGHTS))

    def _load_weights(self, folder, extra):
        self.range_, self.mean_, self.std_ = tuple(extra["range"]), extra["mean"], extra["std"]
        self.module_ = self._module()
        self.module_.load_state_dict(load_file(str(folder / WEIGHTS)))
        self.module_.eval()

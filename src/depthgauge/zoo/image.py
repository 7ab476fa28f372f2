"""Image families: pixels with a linear model or LightGBM, and a small CNN trained by the shared loop with augmentation.

Each reads one image column. A cell holds an image as an array (height × width, or height ×
width × channels; from a folder or an array file) or, at serving time, as base64-encoded
image bytes. An image of another size or mode is brought to the training size by the policy of
`data/images.py` (shorter side resized, centre-cropped), in training, serving and export alike.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from depthgauge.errors import DepthgaugeError
from depthgauge.train.loop import TrainConfig, train_module
from depthgauge.zoo.gbdt import LightGBMModel
from depthgauge.zoo.linear import LinearModel
from depthgauge.zoo.model import ZooModel
from depthgauge.zoo.networks import NetworkOutputs, loss_for

WEIGHTS = "cnn.safetensors"


def decode_image(value, shape: tuple[int, int, int]) -> np.ndarray:
    """Return one image as uint8 pixels of `shape` (height, width, channels), by the policy of `data/images.py`
    (upright, no transparency, covering the size then centre-cropped); raise a clear error for what is no image."""
    from depthgauge.data.images import FORMATS, decode_bytes, fit_to_size, to_channels

    height, width, channels = shape
    if isinstance(value, (str, bytes)):
        from PIL import UnidentifiedImageError

        try:
            raw = base64.b64decode(value, validate=True) if isinstance(value, str) else value
            array = decode_bytes(raw)
        except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as exc:
            raise DepthgaugeError(
                f"An image could not be read: send it as base64-encoded image bytes ({FORMATS}) "
                f"({type(exc).__name__}: {exc})."
            ) from exc
    elif value is None or (isinstance(value, float) and np.isnan(value)):
        raise DepthgaugeError("An image is missing. Every row needs its image.")
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as exc:  # ragged nested lists, for one
            raise DepthgaugeError(f"An image could not be read as a grid of pixels ({exc}). Send it as "
                                  "base64-encoded PNG or JPEG bytes.") from exc
        if array.dtype == object:
            raise DepthgaugeError("An image could not be read as a grid of pixels: it holds values that are not "
                                  "numbers. Send it as base64-encoded PNG or JPEG bytes.")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise DepthgaugeError(f"An image must be a grid of pixels (height × width, with 1, 3 or 4 channels or none), "
                              f"not an array of shape {array.shape}. Send it as base64-encoded PNG or JPEG bytes.")
    if array.dtype != np.uint8:
        raise DepthgaugeError(f"Image arrays must hold 8-bit pixel values (uint8), not {array.dtype}.")
    if min(array.shape[:2]) == 0:
        raise DepthgaugeError("An image has no pixels. Send a real image.")
    return fit_to_size(to_channels(array, channels), height, width)


def image_tensor(values: pd.Series, shape) -> np.ndarray:
    """Return images as float32 (n, channels, height, width) scaled to 0..1."""
    shape = tuple(shape)
    if len(values) == 0:
        return np.zeros((0, shape[2], shape[0], shape[1]), np.float32)
    stacked = np.stack([decode_image(v, shape) for v in values])
    return (stacked.transpose(0, 3, 1, 2) / 255.0).astype(np.float32)


class ImageInput:
    """Reads the image column: the families below see pixels (0–1) or image tensors, never a table encoder."""

    uses_encoder = False
    reads_records = False

    @property
    def image_column(self) -> str:
        return self.roles["image"][0]

    def images(self, X: pd.DataFrame) -> np.ndarray:
        return image_tensor(X[self.image_column], self.params["shape"])

    def pixels(self, X: pd.DataFrame) -> np.ndarray:
        return self.images(X).reshape(len(X), -1)

    def input_schema(self) -> dict:
        self._check_fitted()
        height, width, channels = self.params["shape"]
        return {"task": self.task, "classes": getattr(self, "classes_", None),
                "columns": [{"name": self.image_column, "type": "image", "nullable": False, "width": width,
                             "height": height, "channels": channels}]}


class PixelLinearModel(ImageInput, LinearModel):
    family = "pixels_linear"
    display_name = "Pixels + linear model"

    def _design(self, X):
        return self.pixels(X).astype(np.float64)


class PixelLightGBMModel(ImageInput, LightGBMModel):
    family = "pixels_lightgbm"
    display_name = "Pixels + LightGBM"
    # Hundreds of correlated pixel columns: a faster rate, a third of the columns per tree and coarser bins
    # reach the plateau in a fraction of the rounds, so the simple rival is not cut off by the clock.
    PIXEL_DEFAULTS = {"learning_rate": 0.1, "feature_fraction": 0.3, "max_bin": 63}

    def __init__(self, task, roles, seed=0, time_limit_s=None, **params):
        super().__init__(task, roles, seed=seed, time_limit_s=time_limit_s, **{**self.PIXEL_DEFAULTS, **params})

    def design(self, X) -> np.ndarray:
        return self.pixels(X)

    def _categorical_indices(self) -> list[int]:
        return []

    def input_importance(self) -> dict[str, float]:
        return {}  # a pixel's share of the gain is not a column a monitor can watch


class SmallCNN(nn.Module):
    """Two conv-BN-ReLU-pool blocks and a dense layer of 128: the classic small-image CNN.

    The first convolution is narrow (channels → 32) at full resolution and the wider one runs at half
    resolution, so an epoch of 12,000 28×28 images takes seconds on 2 cores, not tens of seconds.
    """

    def __init__(self, channels: int, height: int, width: int, outputs: int, width_factor: int = 32):
        super().__init__()
        c = width_factor
        grid = (max(1, min(7, height // 4)), max(1, min(7, width // 4)))
        self.features = nn.Sequential(
            nn.Conv2d(channels, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.AdaptiveAvgPool2d(grid),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * c * grid[0] * grid[1], 128), nn.ReLU(), nn.Dropout(0.25),
                                  nn.Linear(128, outputs))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def random_shift(generator: torch.Generator, max_shift: int = 1):
    """Return an augmentation that shifts each batch by up to `max_shift` pixels, padding with zeros."""

    def augment(images: torch.Tensor) -> torch.Tensor:
        dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
        padded = nn.functional.pad(images, (max_shift, max_shift, max_shift, max_shift))
        h, w = images.shape[2], images.shape[3]
        return padded[:, :, max_shift + dy:max_shift + dy + h, max_shift + dx:max_shift + dx + w]

    return augment


class CNNModel(ImageInput, NetworkOutputs, ZooModel):
    family = "cnn"
    display_name = "CNN (deep)"
    is_deep = True
    explainability = "post-hoc"

    def _images(self, X) -> torch.Tensor:
        return torch.from_numpy(self.images(X))

    def _module(self) -> SmallCNN:
        height, width, channels = self.params["shape"]
        return SmallCNN(channels, height, width, self.n_logits, self.params.get("width", 32))

    def _fit(self, X, y, validation):
        torch.manual_seed(self.seed)
        self._learn_target_scale(y)
        self.module_ = self._module()
        val_inputs = val_target = None
        if validation is not None:
            val_inputs, val_target = (self._images(validation[0]),), self._target_tensor(validation[1])
        shift = self.params.get("augment_shift", 1)
        config = TrainConfig(max_epochs=self.params.get("max_epochs", 60), batch_size=self.params.get("batch_size", 128),
                             learning_rate=self.params.get("learning_rate", 1e-3), weight_decay=1e-4,
                             patience=self.params.get("patience", 6), seed=self.seed, time_limit_s=self.time_limit_s,
                             eval_batch_size=1024)
        augment = random_shift(torch.Generator().manual_seed(self.seed), shift) if shift else None
        self.history_ = train_module(self.module_, loss_for(self.task), (self._images(X),), self._target_tensor(y),
                                     val_inputs, val_target, config, augment=augment)

    def _predict_raw(self, X):
        images = self._images(X)
        with torch.no_grad():
            outs = [self.module_(images[i:i + 1024]) for i in range(0, len(images), 1024)]
        out = torch.cat(outs).double().numpy() if outs else np.zeros((0, 1))
        return self._outputs(out)

    def _extra_state(self):
        return self._target_state()

    def _save_weights(self, folder):
        save_file({k: v.contiguous() for k, v in self.module_.state_dict().items()}, str(folder / WEIGHTS))

    def _load_weights(self, folder, extra):
        self._load_target_state(extra)
        self.module_ = self._module()
        self.module_.load_state_dict(load_file(str(folder / WEIGHTS)))
        self.module_.eval()

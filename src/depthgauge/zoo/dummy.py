"""The majority-class / mean baseline: the floor every other model must clear."""

from __future__ import annotations

import numpy as np

from depthgauge.zoo.model import ZooModel


class DummyModel(ZooModel):
    family = "dummy"
    instant = True
    display_name = "Majority/mean baseline"
    explainability = "intrinsic"
    reads_records = True

    def _fit(self, X, y, validation):
        if self.is_classifier:
            counts = np.bincount(y, minlength=self.n_outputs).astype(float)
            self.prior_ = (counts / counts.sum()).tolist()
        else:
            self.prior_ = [float(np.mean(y))]

    def _predict_raw(self, X):
        return self._predict_encoded(np.empty((len(X), 0)), None)

    def _predict_encoded(self, raw, codes):
        prior = np.asarray(self.prior_)
        if self.is_classifier:
            return np.tile(prior, (len(raw), 1))
        return np.full(len(raw), prior[0])

    def _extra_state(self):
        return {"prior": self.prior_}

    def _load_weights(self, folder, extra):
        self.prior_ = extra["prior"]

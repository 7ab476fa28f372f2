"""Shallow decision rules: a depth-limited tree that prints as readable if/then rules, stored as JSON."""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from depthgauge.zoo.model import ZooModel

LEAF = -1


class RulesModel(ZooModel):
    family = "rules"
    display_name = "Decision rules"
    explainability = "intrinsic"
    reads_records = True

    def _design(self, X):
        return self._design_encoded(*self.encoder_.encode(X))

    def _design_encoded(self, raw, codes):
        return np.hstack([self.encoder_.imputed(raw), self.encoder_.one_hot_codes(codes)]).astype(np.float32)

    def _feature_names(self) -> list[tuple[str, str | None]]:
        return [(n, None) for n in self.encoder_.numeric_names_] + self.encoder_.one_hot_names()

    def _fit(self, X, y, validation):
        depth = self.params.get("max_depth", 3)
        leaf = max(5, len(y) // 100)
        tree_cls = DecisionTreeClassifier if self.is_classifier else DecisionTreeRegressor
        tree = tree_cls(max_depth=depth, min_samples_leaf=leaf, random_state=self.seed).fit(self._design(X), y)
        t = tree.tree_
        values = t.value[:, 0, :] if self.is_classifier else t.value[:, 0, 0]
        if self.is_classifier:
            full = np.zeros((t.node_count, self.n_outputs))
            full[:, tree.classes_.astype(int)] = values
            values = full / full.sum(axis=1, keepdims=True)
        self.tree_ = {
            "left": t.children_left.tolist(), "right": t.children_right.tolist(), "feature": t.feature.tolist(),
            "threshold": t.threshold.tolist(), "value": np.asarray(values).tolist(),
            "samples": t.n_node_samples.tolist(),
        }

    def _predict_raw(self, X):
        return self._predict_encoded(*self.encoder_.encode(X))

    def _predict_encoded(self, raw, codes):
        design = self._design_encoded(raw, codes)
        left, right = np.asarray(self.tree_["left"]), np.asarray(self.tree_["right"])
        feature, threshold = np.asarray(self.tree_["feature"]), np.asarray(self.tree_["threshold"])
        node = np.zeros(len(design), dtype=np.int64)
        rows = np.arange(len(design))
        while True:
            internal = left[node] != LEAF
            if not internal.any():
                break
            r = rows[internal]
            n = node[internal]
            go_left = design[r, feature[n]] <= threshold[n]
            node[r] = np.where(go_left, left[n], right[n])
        return np.asarray(self.tree_["value"])[node]

    def rules_text(self) -> list[str]:
        """Return the tree as if/then rules in the data's own column names and categories."""
        self._check_fitted()
        names = self._feature_names()
        t = self.tree_
        out: list[str] = []

        def condition(feature: int, threshold: float, go_left: bool) -> str:
            column, category = names[feature]
            if category is not None:
                return f"{column} {'!=' if go_left else '=='} '{category}'"
            return f"{column} {'<=' if go_left else '>'} {threshold:.4g}"

        def walk(node: int, path: list[str]) -> None:
            if t["left"][node] == LEAF:
                value = t["value"][node]
                if self.is_classifier:
                    best = int(np.argmax(value))
                    outcome = f"{self.classes_[best]} (p={value[best]:.2f})"
                else:
                    outcome = f"{value:.4g}"
                clause = " AND ".join(path) if path else "always"
                out.append(f"IF {clause} THEN {outcome}  [{t['samples'][node]} training rows]")
                return
            f, thr = t["feature"][node], t["threshold"][node]
            walk(t["left"][node], path + [condition(f, thr, True)])
            walk(t["right"][node], path + [condition(f, thr, False)])

        walk(0, [])
        return out

    def _extra_state(self):
        return {"tree": self.tree_}

    def _load_weights(self, folder, extra):
        self.tree_ = extra["tree"]

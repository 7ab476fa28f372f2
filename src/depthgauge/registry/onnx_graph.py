"""One ONNX graph per model, preprocessing included, for the linear, LightGBM and MLP families.

The graph takes one input per raw column, as a product team would send it: numbers and booleans
(1/0) as float with NaN for missing, categories as strings ("" for missing). It reproduces the
encoder step by step in double precision where the encoder works in double, and casts where it
casts, so its outputs match `predict_proba` / `predict` to about 1e-7:

- imputation by the training median, robust scaling (linear) or the quantile-to-normal transform
  (MLP: two piecewise-linear interpolations through the 101 stored quantiles, averaged, then the
  inverse normal CDF by Acklam's rational approximation, within 4e-9 of scipy's `ndtri`);
- categories to codes with a LabelEncoder (0 for missing and unseen), then one-hot (linear),
  embeddings (MLP) or codes (LightGBM);
- the model itself: a matrix product, the network's layers, or LightGBM's trees as an
  `ai.onnx.ml` TreeEnsemble (categorical splits as set membership, missing values routed as
  LightGBM routes them), then the sigmoid or softmax.

Date columns are refused: ONNX cannot parse date strings, and a graph that took pre-parsed
parts would not be the contract the model was served under.
"""

from __future__ import annotations

import json

import numpy as np

from depthgauge.errors import DepthgaugeError

FAMILIES = ("linear", "lightgbm", "mlp")
OPSET = 17
ML_OPSET = 5
_LEVELS = np.linspace(0.0, 1.0, 101)
# Acklam's rational approximation of the inverse normal CDF
_A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00]
_B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01]
_C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
      4.374664141464968e+00, 2.938163982698783e+00]
_D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
_P_LOW = 0.02425


class _Graph:
    """Collects nodes and constants, naming every intermediate uniquely."""

    def __init__(self):
        from onnx import helper

        self.helper = helper
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, value, dtype=np.float64, stem: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, kind: str, *inputs: str, domain: str = "", stem: str | None = None, **attributes) -> str:
        out = self.name(stem or kind.lower())
        self.nodes.append(self.helper.make_node(kind, list(inputs), [out], domain=domain or None, **attributes))
        return out


def _poly(g: _Graph, coefficients: list[float], x: str) -> str:
    result = g.const(coefficients[0])
    for k in coefficients[1:]:
        result = g.op("Add", g.op("Mul", result, x), g.const(k))
    return result


def _ndtri(g: _Graph, p: str) -> str:
    """Acklam's inverse normal CDF on a double tensor of probabilities in (0, 1)."""
    one, two = g.const(1.0), g.const(-2.0)
    q = g.op("Sub", p, g.const(0.5))
    r = g.op("Mul", q, q)
    central = g.op("Div", g.op("Mul", _poly(g, _A, r), q), g.op("Add", g.op("Mul", _poly(g, _B, r), r), one))

    def tail(prob: str) -> str:
        s = g.op("Sqrt", g.op("Mul", two, g.op("Log", prob)))
        return g.op("Div", _poly(g, _C, s), g.op("Add", g.op("Mul", _poly(g, _D, s), s), one))

    low = tail(p)
    high = g.op("Neg", tail(g.op("Sub", one, p)))
    result = g.op("Where", g.op("Less", p, g.const(_P_LOW)), low, central)
    return g.op("Where", g.op("Greater", p, g.const(1.0 - _P_LOW)), high, result)


def _interp(g: _Graph, x: str, knots: np.ndarray, values: np.ndarray) -> str:
    """numpy.interp(x, knots, values) for a double column x of shape (n, 1), ties resolved as numpy does."""
    n = len(knots)
    row = g.const(knots.reshape(1, -1))
    flat_knots, flat_values = g.const(knots), g.const(values)
    below = g.op("Cast", g.op("LessOrEqual", row, x), to=7)  # int64
    k = g.op("ReduceSum", below, g.const([1], np.int64), keepdims=1)  # knots at or below x
    j = g.op("Max", g.op("Min", g.op("Sub", k, g.const(1, np.int64)), g.const(n - 2, np.int64)), g.const(0, np.int64))
    j1 = g.op("Add", j, g.const(1, np.int64))
    x0, x1 = g.op("Gather", flat_knots, j), g.op("Gather", flat_knots, j1)
    y0, y1 = g.op("Gather", flat_values, j), g.op("Gather", flat_values, j1)
    width = g.op("Sub", x1, x0)
    safe = g.op("Where", g.op("Greater", width, g.const(0.0)), width, g.const(1.0))
    inside = g.op("Add", y0, g.op("Mul", g.op("Div", g.op("Sub", x, x0), safe), g.op("Sub", y1, y0)))
    result = g.op("Where", g.op("Equal", k, g.const(0, np.int64)), g.const(float(values[0])), inside)
    return g.op("Where", g.op("Equal", k, g.const(n, np.int64)), g.const(float(values[-1])), result)


def _numeric_columns(g: _Graph, encoder, inputs: dict) -> list[tuple[str, str, str, dict]]:
    """Return (name, raw float32 column, imputed double column, stats) for every numeric input."""
    out = []
    for name in encoder.numeric_names_:
        stats = encoder.numeric_stats_[name]
        raw = inputs[name]
        wide = g.op("Cast", raw, to=11)  # double
        missing = g.op("IsNaN", wide)
        imputed = g.op("Where", missing, g.const(stats["median"]), wide)
        out.append((name, raw, imputed, {**stats, "missing": missing}))
    return out


def _scaled(g: _Graph, columns, how: str) -> str | None:
    """The encoder's `numeric_scaled`: scaled columns then missing flags, as float32 (n, k), or None when empty."""
    parts, flags = [], []
    for _, _, x, stats in columns:
        if how == "quantile":
            q = np.asarray(stats["quantiles"], np.float64)
            up = _interp(g, x, q, _LEVELS)
            down = g.op("Sub", g.const(1.0), _interp(g, g.op("Neg", x), -q[::-1].copy(), 1.0 - _LEVELS[::-1]))
            p = g.op("Clip", g.op("Div", g.op("Add", up, down), g.const(2.0)), g.const(1e-4), g.const(1 - 1e-4))
            parts.append(_ndtri(g, p))
        else:
            centred = g.op("Div", g.op("Sub", x, g.const(stats["median"])), g.const(stats["scale"]))
            parts.append(g.op("Clip", centred, g.const(-10.0), g.const(10.0)))
        if stats["has_missing"]:
            flags.append(g.op("Cast", stats["missing"], to=11))
    stacked = parts + flags
    if not stacked:
        return None
    return g.op("Cast", g.op("Concat", *stacked, axis=1) if len(stacked) > 1 else stacked[0], to=1)


def _codes(g: _Graph, encoder, inputs: dict) -> list[str]:
    """int64 (n, 1) codes per categorical column: 1..K for the learned categories, 0 for anything else."""
    codes = []
    for name in encoder.categorical:
        categories = [str(c) for c in encoder.categories_[name]]
        codes.append(g.op("LabelEncoder", inputs[name], domain="ai.onnx.ml", keys_strings=categories or [""],
                          values_int64s=list(range(1, len(categories) + 1)) or [0], default_int64=0))
    return codes


def _outputs(g: _Graph, model, logits: str) -> str:
    """Probabilities (n, classes) or predictions (n,), double, from the model's raw outputs."""
    if model.task == "binary":
        p = g.op("Sigmoid", logits)
        return g.op("Concat", g.op("Sub", g.const(1.0), p), p, axis=1)
    if model.task == "multiclass":
        return g.op("Softmax", logits, axis=1)
    return g.op("Reshape", logits, g.const([-1], np.int64))


def _linear(g: _Graph, model, inputs: dict) -> str:
    encoder = model.encoder_
    parts = []
    scaled = _scaled(g, _numeric_columns(g, encoder, inputs), "robust")
    if scaled is not None:
        parts.append(g.op("Cast", scaled, to=11))
    for code, size in zip(_codes(g, encoder, inputs), encoder.cardinalities(), strict=True):
        if size:
            parts.append(g.op("Cast", g.op("Equal", code, g.const(np.arange(1, size + 1).reshape(1, -1), np.int64)),
                              to=11))
    design = g.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]
    logits = g.op("Add", g.op("MatMul", design, g.const(np.asarray(model.coef_, np.float64).T)),
                  g.const(np.asarray(model.intercept_, np.float64)))
    return _outputs(g, model, logits)


def _mlp(g: _Graph, model, inputs: dict) -> str:
    import torch

    encoder, module = model.encoder_, model.module_
    parts = []
    scaled = _scaled(g, _numeric_columns(g, encoder, inputs), "quantile")
    if scaled is not None:
        parts.append(scaled)
    for code, embedding in zip(_codes(g, encoder, inputs), module.embeddings, strict=True):
        table = g.const(embedding.weight.detach().numpy(), np.float32)
        parts.append(g.op("Flatten", g.op("Gather", table, code, axis=0), axis=1))
    x = g.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]
    for layer in module.net:
        if isinstance(layer, torch.nn.Linear):
            x = g.op("Gemm", x, g.const(layer.weight.detach().numpy(), np.float32),
                     g.const(layer.bias.detach().numpy(), np.float32), transB=1)
        elif isinstance(layer, torch.nn.ReLU):
            x = g.op("Relu", x)  # dropout is the identity at prediction time
    logits = g.op("Cast", x, to=11)
    if model.task == "regression":
        logits = g.op("Add", g.op("Mul", logits, g.const(model.target_std_)), g.const(model.target_mean_))
    return _outputs(g, model, logits)


def _lightgbm(g: _Graph, model, inputs: dict) -> str:
    from onnx import numpy_helper

    encoder = model.encoder_
    columns = [g.op("Cast", inputs[name], to=11) for name in encoder.numeric_names_]  # NaN kept, as LightGBM sees it
    columns += [g.op("Cast", code, to=11) for code in _codes(g, encoder, inputs)]
    design = g.op("Concat", *columns, axis=1) if len(columns) > 1 else columns[0]
    dump = model.booster_.dump_model(num_iteration=model.best_iteration_)
    per_iteration = dump.get("num_tree_per_iteration", 1)
    trees = _TreeTables()
    for index, tree in enumerate(dump["tree_info"]):
        trees.add(tree["tree_structure"], index % per_iteration)
    raw = g.op("TreeEnsemble", design, domain="ai.onnx.ml", aggregate_function=1, post_transform=0,
               n_targets=per_iteration, tree_roots=trees.roots,
               nodes_featureids=trees.features, nodes_modes=numpy_helper.from_array(np.array(trees.modes, np.uint8)),
               nodes_splits=numpy_helper.from_array(np.array(trees.splits, np.float64)),
               nodes_truenodeids=trees.true_ids, nodes_trueleafs=trees.true_leafs,
               nodes_falsenodeids=trees.false_ids, nodes_falseleafs=trees.false_leafs,
               nodes_missing_value_tracks_true=trees.missing_true,
               membership_values=numpy_helper.from_array(np.array(trees.members or [np.nan], np.float64)),
               leaf_targetids=trees.leaf_targets,
               leaf_weights=numpy_helper.from_array(np.array(trees.leaf_weights, np.float64)))
    base = dump.get("average_output", False)
    if base:
        raw = g.op("Div", raw, g.const(float(len(dump["tree_info"]) // per_iteration)))
    return _outputs(g, model, raw)


class _TreeTables:
    """LightGBM's dumped trees as the flat tables of ONNX's TreeEnsemble (ai.onnx.ml opset 5)."""

    LEQ, MEMBER = 0, 6

    def __init__(self):
        self.roots, self.features, self.modes, self.splits = [], [], [], []
        self.true_ids, self.true_leafs, self.false_ids, self.false_leafs, self.missing_true = [], [], [], [], []
        self.members, self.leaf_targets, self.leaf_weights = [], [], []

    def _leaf(self, value: float, target: int) -> int:
        self.leaf_targets.append(target)
        self.leaf_weights.append(float(value))
        return len(self.leaf_weights) - 1

    def add(self, root: dict, target: int) -> None:
        if "leaf_value" in root:  # a tree of one leaf: a split every row passes, both ways to the leaf
            leaf = self._leaf(root["leaf_value"], target)
            self.roots.append(self._node(0, self.LEQ, 0.0, (leaf, True), (leaf, True), True))
            return
        self.roots.append(self._split(root, target))

    def _node(self, feature, mode, split, true, false, missing_true) -> int:
        self.features.append(int(feature))
        self.modes.append(mode)
        self.splits.append(float(split))
        self.true_ids.append(true[0])
        self.true_leafs.append(int(true[1]))
        self.false_ids.append(false[0])
        self.false_leafs.append(int(false[1]))
        self.missing_true.append(int(missing_true))
        return len(self.features) - 1

    def _child(self, node: dict, target: int) -> tuple[int, bool]:
        if "leaf_value" in node:
            return self._leaf(node["leaf_value"], target), True
        return self._split(node, target), False

    def _split(self, node: dict, target: int) -> int:
        # the node's own split first: membership sets are listed in the order of their nodes
        if node["decision_type"] == "==":
            # categorical: the codes in the set go left; NaN (never sent: missing categories are code 0) right
            mode, split, missing_true = self.MEMBER, 0.0, False
            self.members += [float(v) for v in str(node["threshold"]).split("||")] + [np.nan]
        elif node["decision_type"] == "<=":
            mode, split = self.LEQ, float(node["threshold"])
            missing = node.get("missing_type", "None")
            if missing == "NaN":
                missing_true = bool(node["default_left"])
            elif missing == "None":
                missing_true = 0.0 <= split  # LightGBM reads NaN as 0 for such a feature
            else:
                raise DepthgaugeError("A LightGBM model trained with zero_as_missing has no ONNX form here.")
        else:
            raise DepthgaugeError(f"LightGBM split type {node['decision_type']!r} has no ONNX form here.")
        index = self._node(node["split_feature"], mode, split, (0, False), (0, False), missing_true)
        left, right = self._child(node["left_child"], target), self._child(node["right_child"], target)
        self.true_ids[index], self.true_leafs[index] = left[0], int(left[1])
        self.false_ids[index], self.false_leafs[index] = right[0], int(right[1])
        return index


def model_to_onnx(model, ref: str):
    """Return the ONNX ModelProto of a fitted linear, LightGBM or MLP model, preprocessing included."""
    from onnx import TensorProto, checker, helper

    if model.family not in FAMILIES:
        raise DepthgaugeError(f"The {model.family} family cannot be exported to ONNX: the export covers "
                              f"{', '.join(FAMILIES)}. Use --format folder or --format mlflow for this one.")
    encoder = model.encoder_
    if getattr(encoder, "text", None):
        raise DepthgaugeError(f"{ref} reads the free-text column(s) {', '.join(encoder.text)}, and this ONNX export has "
                              "no tokenizer for them. Use --format folder or --format mlflow, or assess without the "
                              "text columns (--drop).")
    if encoder.datetime:
        raise DepthgaugeError(f"{ref} reads the date column(s) {', '.join(encoder.datetime)}, and ONNX cannot parse "
                              "dates. Use --format folder or --format mlflow, or assess without the date columns.")
    g = _Graph()
    inputs, graph_inputs = {}, []
    for name in encoder.numeric_names_:
        inputs[name] = name
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", 1]))
    for name in encoder.categorical:
        inputs[name] = name
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.STRING, ["n", 1]))
    if not graph_inputs:
        raise DepthgaugeError(f"{ref} has no input columns to export.")
    build = {"linear": _linear, "lightgbm": _lightgbm, "mlp": _mlp}[model.family]
    result = build(g, model, inputs)
    output_name = "probabilities" if model.is_classifier else "prediction"
    g.nodes.append(helper.make_node("Identity", [result], [output_name]))
    shape = ["n", len(model.classes_)] if model.is_classifier else ["n"]
    graph = helper.make_graph(g.nodes, f"depthgauge_{model.family}", graph_inputs,
                              [helper.make_tensor_value_info(output_name, TensorProto.DOUBLE, shape)], g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
                              producer_name="depthgauge", ir_version=10)
    meta = {"ref": ref, "family": model.family, "task": model.task, "output": output_name,
            "classes": [str(c) for c in model.classes_] if model.is_classifier else None,
            "inputs": {n: "float (NaN for missing; booleans 1/0)" for n in encoder.numeric_names_}
            | {n: "string ('' for missing)" for n in encoder.categorical}}
    helper.set_model_props(proto, {"depthgauge": json.dumps(meta)})
    checker.check_model(proto, full_check=True)
    return proto

"""Kinds of data beyond a plain table: text, images, time series, anomalies (no target) and graphs.

`detect_kind` says which kind a dataset is; `prepare` turns it into one table (a row per
example, a column per input) plus what each model family needs to read it, so the split, the
five dimensions, the verdict, the registry and serving treat every kind the same way.
Every check here runs before the workspace is touched: bad input writes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from depthgauge.errors import DepthgaugeError

KINDS = ("table", "text", "image", "series", "anomaly", "graph")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
TEXT_SUFFIXES = {".txt", ".md", ".text"}
ARRAY_SUFFIXES = {".npz"}
IMAGE_COLUMN = "image"
NEIGHBOURS_COLUMN = "neighbors"
ORIGIN_COLUMN = "origin"
SEASONS = {"h": 24, "D": 7, "W": 52, "M": 12, "Q": 4}  # by the step between observations
MAX_WINDOW = 128


@dataclass
class Prepared:
    """A dataset made ready for `assess`: the table, the target, and each family's roles and settings."""

    kind: str
    frame: pd.DataFrame
    target: str | None
    source: str
    assigned: dict[str, str] = field(default_factory=dict)  # column → role decided here, not inferred
    params: dict[str, dict] = field(default_factory=dict)  # family → settings (image size, window, season…)
    roles: dict[str, dict] = field(default_factory=dict)  # family → the columns it reads, where not the table's roles
    time_column: str | None = None
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)  # recorded with the assessment
    warnings: list[str] = field(default_factory=list)  # printed before training: skipped files, a chosen default


def _folder_files(folder: Path) -> dict[str, list[Path]]:
    classes = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.iterdir() if p.is_file() and not p.name.startswith("."))
        if files:
            classes[sub.name] = files
    return classes


def detect_kind(data, target: str | None, kind: str | None, edges, horizon: int | None) -> str:
    """Return the kind of `data`: `kind` when given (checked), else from the path, the options and the columns."""
    if kind is not None:
        if kind not in KINDS:
            raise DepthgaugeError(f"Unknown kind '{kind}'. Use one of: {', '.join(KINDS)}.")
        return kind
    if edges is not None:
        return "graph"
    if horizon is not None:
        return "series"
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.suffix.lower() in ARRAY_SUFFIXES:
            return "image"
        if path.is_dir():
            files = [f for fs in _folder_files(path).values() for f in fs]
            if not files:
                return "table"  # reading it as a table says what a folder must hold
            if sum(f.suffix.lower() in IMAGE_SUFFIXES for f in files) >= len(files) / 2:
                return "image"
            return "text"
    if target is None:
        return "anomaly"
    return "table"


def prepare(kind: str, data, target: str | None, *, encoding=None, edges=None, node_column=None, horizon=None,
            season=None, time_column=None, contamination: float | None = None,
            image_size: int | None = None) -> Prepared:
    """Return `data` as one table for `kind`, or raise a `DepthgaugeError` that names the problem and the fix."""
    from depthgauge.data.images import check_image_size

    check_image_size(image_size)
    warnings: list[str] = []
    if kind == "text" and isinstance(data, (str, os.PathLike)) and Path(data).is_dir():
        frame, source = _text_folder(Path(data)), str(Path(data).resolve())
        target = target or "label"
        frame = frame.rename(columns={"label": target})
    elif kind == "image" and isinstance(data, (str, os.PathLike)) and Path(data).is_dir():
        (frame, warnings), source = _image_folder(Path(data), image_size), str(Path(data).resolve())
        target = target or "label"
        frame = frame.rename(columns={"label": target})
    elif kind == "image" and isinstance(data, (str, os.PathLike)) and Path(data).suffix.lower() in ARRAY_SUFFIXES:
        frame, source = _image_arrays(Path(data)), str(Path(data).resolve())
        target = target or "label"
        frame = frame.rename(columns={"label": target})
        if image_size is not None:
            from depthgauge.data.images import same_size

            resized, note = same_size(list(frame[IMAGE_COLUMN]), image_size)
            frame[IMAGE_COLUMN], warnings = pd.Series(resized, index=frame.index, dtype=object), [note]
    else:
        frame, source = _table(data, encoding)
        if kind == "table" and _only_text(frame, target):
            kind = "text"
    if kind == "text":
        return _text(frame, target, source)
    if kind == "image":
        prepared = _images(frame, target, source)
        prepared.warnings = warnings
        return prepared
    if kind == "series":
        return _series(frame, target, source, time_column, horizon, season)
    if kind == "anomaly":
        if contamination is not None and not 0 < contamination < 0.5:
            raise DepthgaugeError(f"--contamination is the expected share of anomalies, between 0 and 0.5; "
                                  f"not {contamination}. The default is 0.05.")
        params = {"contamination": contamination or 0.05}
        return Prepared("anomaly", frame, target, source, params={"isolation_forest": params, "autoencoder": params},
                        time_column=time_column, settings=dict(params))
    if kind == "graph":
        return _graph(frame, target, source, edges, node_column, encoding)
    return Prepared("table", frame, target, source, time_column=time_column)


def _table(data, encoding) -> tuple[pd.DataFrame, str]:
    from depthgauge.data.load import load_table

    if isinstance(data, pd.DataFrame):
        return data.copy(), "<DataFrame>"
    if isinstance(data, (str, os.PathLike)):
        return load_table(data, encoding=encoding), str(Path(data).resolve())
    raise DepthgaugeError(f"assess() takes a pandas DataFrame or a file path, not {type(data).__name__}.")


def _only_text(frame: pd.DataFrame, target: str | None) -> bool:
    """Return whether the inputs are free text and nothing else (then the table is assessed as text)."""
    from depthgauge.data.profile import infer_role

    inputs = [c for c in frame.columns if c != target]
    if not inputs or len(inputs) > 3 or any(pd.api.types.is_numeric_dtype(frame[c]) for c in inputs):
        return False
    return any(infer_role(frame[c])[0] == "text" for c in inputs)


def _require_target(target: str | None, kind: str) -> str:
    if target is None:
        raise DepthgaugeError(f"Assessing {kind} needs --target: the column to predict. "
                              "(Without a target, depthgauge looks for anomalies: pass --kind anomaly.)")
    return target


# text ------------------------------------------------------------------------------

def _text_folder(folder: Path) -> pd.DataFrame:
    classes = _folder_files(folder)
    if len(classes) < 2:
        raise DepthgaugeError(f"'{folder}' needs one subfolder per class with text files in each; found "
                              f"{len(classes)} such subfolder(s). Put each class's files in its own subfolder.")
    rows = []
    for label, files in classes.items():
        for path in files:
            try:
                rows.append((path.read_bytes().decode("utf-8"), label))
            except UnicodeDecodeError as exc:
                raise DepthgaugeError(f"'{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}). "
                                      "Save it as UTF-8 or remove it from the folder.") from exc
    return pd.DataFrame(rows, columns=["text", "label"])


def _text(frame: pd.DataFrame, target: str | None, source: str) -> Prepared:
    from depthgauge.data.profile import infer_role, require_column

    target = _require_target(target, "text")
    require_column(frame, target, "Target column")
    candidates = [c for c in frame.columns if c != target and not pd.api.types.is_numeric_dtype(frame[c])]
    texts = [c for c in candidates if infer_role(frame[c])[0] == "text"]
    if not texts:
        blank = [c for c in candidates if frame[c].fillna("").astype(str).str.strip().eq("").all()]
        if blank:
            raise DepthgaugeError(f"Text column '{blank[0]}' is empty in every row. Fill it with the texts to "
                                  "classify, or name another file.")
        raise DepthgaugeError("No free-text column found (a column of sentences, mostly distinct, five words or more "
                              "on average). Check the file, or assess it as a table without --kind text.")
    column = max(texts, key=lambda c: frame[c].fillna("").astype(str).str.len().mean())
    values = frame[column].fillna("").astype(str).str.strip()
    empty = int(values.eq("").sum())
    notes = []
    if empty:
        notes.append(f"{empty} row(s) have an empty '{column}' text; they are kept and read as empty text.")
    others = [c for c in frame.columns if c not in (column, target)]
    if others:
        notes.append(f"Text models read only '{column}'; other columns ({', '.join(map(str, others[:5]))}) are not used.")
    return Prepared("text", frame[[column, target]].copy(), target, source, assigned={column: "text"}, notes=notes,
                    settings={"text_column": column})


# images ----------------------------------------------------------------------------

def _image_folder(folder: Path, image_size: int | None) -> tuple[pd.DataFrame, list[str]]:
    from depthgauge.data.images import read_folder

    classes = _folder_files(folder)
    if len(classes) < 2:
        raise DepthgaugeError(f"'{folder}' needs one subfolder per class with images in each; found {len(classes)} "
                              "such subfolder(s). Put each class's images in its own subfolder.")
    images, labels, warnings = read_folder(classes, image_size)
    return pd.DataFrame({IMAGE_COLUMN: images, "label": labels}), warnings


def _image_arrays(path: Path) -> pd.DataFrame:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            names = list(arrays.keys())
            images_key = next((k for k in ("images", "X", "x") if k in names), None)
            labels_key = next((k for k in ("labels", "y", "target") if k in names), None)
            if images_key is None or labels_key is None:
                raise DepthgaugeError(f"'{path}' holds arrays {names}; depthgauge needs 'images' (n × height × width, "
                                      "or n × height × width × channels) and 'labels' (n). Save them under those names.")
            images, labels = arrays[images_key], arrays[labels_key]
    except (ValueError, OSError) as exc:
        raise DepthgaugeError(f"'{path}' is not a readable .npz array file ({exc}). Save it with numpy.savez.") from exc
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise DepthgaugeError(f"'{path}': images must be n × height × width (× channels) with one label each; got "
                              f"images {images.shape} and labels {labels.shape}.")
    if images.dtype != np.uint8:
        if not np.issubdtype(images.dtype, np.number) or np.nanmin(images) < 0:
            raise DepthgaugeError(f"'{path}': image values must be non-negative numbers (uint8 0–255, or a "
                                  f"smaller range that is scaled to it); got {images.dtype}.")
        top = float(np.nanmax(images))
        scale = 255.0 if top <= 1.0 else (255.0 / top if top <= 255.0 else None)
        if scale is None:
            raise DepthgaugeError(f"'{path}': image values go up to {top:g}; scale them to 0–255 first.")
        images = np.clip(np.rint(np.nan_to_num(images) * scale), 0, 255).astype(np.uint8)
    return pd.DataFrame({IMAGE_COLUMN: list(images), "label": labels.astype(str)})


def _images(frame: pd.DataFrame, target: str | None, source: str) -> Prepared:
    target = _require_target(target, "images")
    if IMAGE_COLUMN not in frame.columns:
        raise DepthgaugeError("Images are read from a folder with one subfolder per class, or an .npz file with "
                              "'images' and 'labels'. Pass one of those.")
    first = frame[IMAGE_COLUMN].iloc[0]
    shape = [int(first.shape[0]), int(first.shape[1]), int(first.shape[2]) if first.ndim == 3 else 1]
    params = {"shape": shape}
    return Prepared("image", frame, target, source, assigned={IMAGE_COLUMN: "image"},
                    params={f: params for f in ("pixels_linear", "pixels_lightgbm", "cnn")},
                    settings={"image_shape": shape})


# time series -----------------------------------------------------------------------

def _series(frame, target, source, time_column, horizon, season) -> Prepared:
    from depthgauge.data.profile import require_column
    from depthgauge.data.series import lag_names, seasonal_lag

    target = _require_target(target, "a time series")
    if time_column is None:
        raise DepthgaugeError("A time series needs --time-column: the column that orders the observations.")
    require_column(frame, target, "Target column")
    require_column(frame, time_column, "Time column (--time-column)")
    horizon = 1 if horizon is None else horizon
    if horizon < 1:
        raise DepthgaugeError(f"--horizon is how many steps ahead to forecast, at least 1; not {horizon}.")
    from depthgauge.data.timeorder import is_numeric_time, numeric_season, sort_key, time_values

    times = time_values(frame[time_column], time_column)
    values = pd.to_numeric(frame[target], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DepthgaugeError(f"Target '{target}' must be a number in every row to forecast it; row {row + 2} of the "
                              f"file holds {frame[target].iloc[row]!r}. Fill or interpolate the missing values.")
    order = np.argsort(sort_key(times), kind="stable")
    times, values = times.iloc[order].reset_index(drop=True), values.iloc[order].reset_index(drop=True)
    numeric = is_numeric_time(times)
    steps = times.diff().dropna()
    if len(steps) == 0:
        raise DepthgaugeError("A time series needs more than one observation.")
    step = steps.median()
    duplicated = times[times.duplicated()]
    if len(duplicated):
        raise DepthgaugeError(f"Time column '{time_column}' has {len(duplicated)} duplicate time(s), for example "
                              f"{duplicated.iloc[0]}. A series needs one value per time: aggregate duplicates "
                              "(sum or mean per period) first.")
    # Numbers written with a few decimals (1749.083, 1749.167) have steps that differ in the last digit.
    tolerance = 0.05 * step if numeric else pd.Timedelta(0)
    gaps = steps[(steps - step).abs() > tolerance]
    usual = f"{step:g}" if numeric else str(step)
    if len(gaps):
        at = int(gaps.index[0])
        raise DepthgaugeError(
            f"The series has {len(gaps)} gap(s) or uneven step(s): the usual step is {usual}, but "
            f"{times.iloc[at - 1]} is followed by {times.iloc[at]}. Fill the missing periods (for example with "
            f"pandas resample and interpolate) so every step is {usual}."
        )
    if season is None:
        season = numeric_season(float(step)) if numeric else _season(step)
    if season < 1:
        raise DepthgaugeError(f"--season is the number of steps in one seasonal cycle, at least 1; not {season}.")
    window = min(max(2 * season, 8, seasonal_lag(season, horizon)), MAX_WINDOW)
    if seasonal_lag(season, horizon) > window:
        raise DepthgaugeError(f"A season of {season} steps needs a window longer than {MAX_WINDOW} lags. "
                              "Pass a smaller --season.")
    n_rows = len(values) - window - horizon + 1
    if n_rows < 50:
        raise DepthgaugeError(
            f"The series has {len(values)} observations; forecasting {horizon} step(s) ahead from {window} lags "
            f"leaves {max(n_rows, 0)} examples, and an assessment needs at least 50. Add history or pass a smaller "
            "--season."
        )
    y = values.to_numpy(float)
    starts = np.arange(window - 1, window - 1 + n_rows)
    columns = {ORIGIN_COLUMN: times.iloc[starts].to_numpy()}
    for k, name in enumerate(lag_names(window)):
        columns[name] = y[starts - k]
    columns[target] = y[starts + horizon]
    table = pd.DataFrame(columns)
    params = {"window": window, "horizon": horizon, "season": season}
    return Prepared("series", table, target, source, assigned={ORIGIN_COLUMN: "time"},
                    params={f: params for f in ("naive", "seasonal_naive", "gru")}, time_column=ORIGIN_COLUMN,
                    notes=[f"Forecasting '{target}' {horizon} step(s) of {usual} ahead from the last {window} values "
                           f"(season {season}); each row is one forecast origin, split by time."],
                    settings={**params, "step": usual, "time_column": time_column})


def _season(step: pd.Timedelta) -> int:
    if step == pd.Timedelta(hours=1):
        return SEASONS["h"]
    if step == pd.Timedelta(days=1):
        return SEASONS["D"]
    if step == pd.Timedelta(weeks=1):
        return SEASONS["W"]
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return SEASONS["M"]
    if pd.Timedelta(days=89) <= step <= pd.Timedelta(days=92):
        return SEASONS["Q"]
    return 1


# graphs ----------------------------------------------------------------------------

def _graph(frame, target, source, edges, node_column, encoding) -> Prepared:
    from depthgauge.data.load import load_table
    from depthgauge.data.profile import require_column

    target = _require_target(target, "a graph's nodes")
    if edges is None:
        raise DepthgaugeError("A graph needs --edges: a CSV with one edge per row (two columns of node ids).")
    require_column(frame, target, "Target column")
    if node_column is None:
        node_column = next((c for c in frame.columns if str(c).lower() in ("node", "node_id", "id")), frame.columns[0])
    require_column(frame, node_column, "Node column (--node-column)")
    ids = frame[node_column].astype(str)
    if ids.duplicated().any():
        raise DepthgaugeError(f"Node column '{node_column}' repeats id {ids[ids.duplicated()].iloc[0]!r}; every node "
                              "needs one row.")
    edge_table = load_table(edges, encoding=encoding)
    if edge_table.shape[1] < 2:
        raise DepthgaugeError(f"Edge list '{edges}' needs two columns (source and target node ids).")
    src, dst = edge_table.iloc[:, 0].astype(str), edge_table.iloc[:, 1].astype(str)
    known = set(ids)
    unknown = sorted({*src[~src.isin(known)], *dst[~dst.isin(known)]})
    if unknown:
        raise DepthgaugeError(
            f"The edge list names {len(unknown)} node(s) that are not in the node table, for example "
            f"{', '.join(repr(u) for u in unknown[:3])}. Add them to the node table or remove their edges."
        )
    position = {node: i for i, node in enumerate(ids)}
    a = src.map(position).to_numpy()
    b = dst.map(position).to_numpy()
    keep = a != b
    neighbours: list[set[int]] = [set() for _ in range(len(ids))]
    for i, j in zip(a[keep], b[keep], strict=True):
        neighbours[i].add(j)
        neighbours[j].add(i)
    table = frame.copy()
    table[node_column] = ids
    id_list = ids.tolist()
    table[NEIGHBOURS_COLUMN] = [" ".join(id_list[j] for j in sorted(n)) for n in neighbours]
    numeric = [c for c in frame.columns if c not in (node_column, target) and pd.api.types.is_numeric_dtype(frame[c])]
    matrix = frame[numeric].to_numpy(float)
    degree = np.array([len(n) for n in neighbours], float)
    means = np.full_like(matrix, np.nan)
    for i, n in enumerate(neighbours):
        if n:
            means[i] = np.nanmean(matrix[sorted(n)], axis=0)
    table["degree"] = degree
    for j, name in enumerate(numeric):
        table[f"neighbour_mean_{name}"] = means[:, j]
    isolated = int((degree == 0).sum())
    notes = [f"Graph of {len(ids):,} nodes and {int(degree.sum() / 2):,} edges (undirected). Trees and linear models "
             "read each node's features plus its degree and its neighbours' mean features; the graph neural network "
             "reads the graph itself."]
    if isolated:
        notes.append(f"{isolated} node(s) have no edges.")
    gnn_roles = {"node": [node_column], "neighbors": [NEIGHBOURS_COLUMN], "numeric": numeric}
    return Prepared("graph", table, target, source, assigned={node_column: "node", NEIGHBOURS_COLUMN: "neighbors"},
                    roles={"gnn": gnn_roles}, notes=notes,
                    settings={"node_column": node_column, "edges": str(Path(edges).resolve()),
                              "nodes": len(ids), "edges_count": int(degree.sum() / 2)})


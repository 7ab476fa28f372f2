"""Profile a table: each column's role, the task, class balance, and the warnings a careful data scientist gives.

Validation of the table happens here, once: every problem that would make an assessment
meaningless raises a `DepthgaugeError` that names the column and the fix.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from depthgauge.errors import DepthgaugeError

MIN_ROWS = 50
MIN_ROWS_PER_CLASS = 3
DEEP_MIN_ROWS = 2000
IMBALANCE_SHARE = 0.05
MAX_CLASSES = 100
LEAKAGE_SCORE = 0.98  # single-feature score (chance-corrected, or R²) that is taken as leakage
SUSPECT_SCORE = 0.9  # ... that makes a column a suspect when a model scores too well to be true
TASKS = ("binary", "multiclass", "regression")

_BOOL_TOKENS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid|^key$)", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
# look-alikes of phone numbers that are not personal data: dates and ZIP+4 codes
_DATE_LIKE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T].*)?$")
_ZIP_PLUS_FOUR = re.compile(r"^\d{5}-\d{4}$")
_PII_NAMES = re.compile(r"(e-?mail|phone|mobile|ssn|social_security|passport|first_?name|last_?name|full_?name|address)", re.I)


@dataclass
class ColumnProfile:
    name: str
    role: str
    dtype: str
    missing: int
    n_unique: int
    note: str | None = None


@dataclass
class Profile:
    n_rows: int
    n_columns: int
    target: str
    task: str
    columns: list[ColumnProfile]
    classes: list | None = None
    class_balance: dict | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def features(self, *roles: str) -> list[str]:
        """Return the names of the model features, optionally only those with one of `roles`."""
        usable = ("numeric", "categorical", "boolean", "datetime", "text")
        return [c.name for c in self.columns if c.role in (roles or usable)]

    def to_dict(self) -> dict:
        return asdict(self)


def _suggest(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.5)
    lowered = {c.lower(): c for c in columns}
    if name.lower() in lowered and lowered[name.lower()] not in close:
        close.insert(0, lowered[name.lower()])
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(columns[:20]) + (", …" if len(columns) > 20 else "")
    return f"{hint} Columns: {shown}."


def require_column(frame: pd.DataFrame, name: str, what: str) -> None:
    if name not in frame.columns:
        raise DepthgaugeError(f"{what} '{name}' is not a column of the data.{_suggest(name, [str(c) for c in frame.columns])}")


def _is_integer_valued(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(numbers)) and bool(np.all(np.isclose(numbers, np.round(numbers))))


def infer_role(series: pd.Series) -> tuple[str, str | None]:
    """Return the column's role (numeric, categorical, boolean, datetime, text, identifier) and a note."""
    name = str(series.name)
    values = series.dropna()
    n = len(values)
    if pd.api.types.is_bool_dtype(series):
        return "boolean", None
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime", None
    if pd.api.types.is_numeric_dtype(series):
        unique = values.nunique()
        if unique <= 2 and set(np.unique(values)) <= {0, 1}:
            return "boolean", None
        if n >= 20 and unique == n and _is_integer_valued(values):
            diffs = np.diff(np.sort(values.to_numpy()))
            if _ID_NAME.search(name) or (len(diffs) and np.mean(diffs == 1) > 0.9):
                return "identifier", "every value is a distinct integer, like a row id; dropped"
        return "numeric", None
    text = values.astype(str).str.strip()
    counts = text.value_counts()  # distinct values carry the decision; categorical columns have few
    lowered = set(counts.index.str.lower())
    if 0 < len(lowered) <= 2 and lowered <= _BOOL_TOKENS:
        return "boolean", None
    parsed = pd.to_numeric(pd.Series(counts.index), errors="coerce").to_numpy()
    numeric_share = float(counts.to_numpy()[~np.isnan(parsed)].sum() / n) if n else 0.0
    if n and numeric_share == 1.0:
        return "numeric", "numbers stored as text; read as numbers"
    if n and numeric_share >= 0.5:
        bad = counts.index[np.isnan(parsed)][:3]
        raise DepthgaugeError(
            f"Column '{name}' has mixed types: {numeric_share:.0%} of its values are numbers but others are not "
            f"(for example {', '.join(repr(v) for v in bad)}). Clean those values (leave them empty if unknown), "
            f"or pass --drop {name} to leave the column out."
        )
    if _looks_like_dates(text):
        return "datetime", None
    unique = len(counts)
    sample = text.sample(min(n, 2000), random_state=0) if n else text
    mean_words = float(sample.str.split().str.len().mean()) if n else 0.0
    if n >= 20 and mean_words >= 5 and unique / n > 0.5:
        return "text", "free text; read by every candidate as TF-IDF reduced to 16 numbers (--drop leaves it out)"
    if n >= 20 and unique == n:
        return "identifier", "every value is distinct, like a key; dropped"
    if _ID_NAME.search(name) and n >= 20 and unique / n > 0.9:
        return "identifier", "name and near-unique values look like a key; dropped"
    return "categorical", None


def _looks_like_dates(text: pd.Series) -> bool:
    sample = text.head(200)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return False
    if not sample.str.contains(r"[-/:]", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def _personal_data_kind(series: pd.Series) -> str | None:
    if _PII_NAMES.search(str(series.name)):
        return "its name suggests personal data"
    if pd.api.types.is_numeric_dtype(series):
        return None
    sample = series.dropna().astype(str).str.strip().head(500)
    if sample.empty:
        return None
    if sample.str.match(_EMAIL).mean() > 0.5:
        return "email addresses"
    digits = sample.str.count(r"\d")
    shaped = sample.str.match(_PHONE) & ~sample.str.match(_DATE_LIKE) & ~sample.str.match(_ZIP_PLUS_FOUR)
    # a national number has 10+ digits; shorter ones count only when written as phone numbers are (+44..., (555)...)
    dialled = (digits >= 10) | sample.str.startswith("+") | sample.str.contains("(", regex=False)
    if (shaped & dialled & (digits <= 15)).mean() > 0.5 and sample.str.contains(r"[\s()+-]", regex=True).mean() > 0.5:
        return "phone numbers"
    return None


def detect_task(y: pd.Series) -> str:
    """Return binary, multiclass or regression for the target column."""
    values = y.dropna()
    unique = values.nunique()
    if unique == 2:
        return "binary"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if _is_integer_valued(values) and unique <= 10:
            return "multiclass"
        return "regression"
    return "multiclass"


def profile_table(
    frame: pd.DataFrame,
    target: str,
    task: str | None = None,
    drop: tuple[str, ...] = (),
    sensitive: str | None = None,
    time_column: str | None = None,
    group_column: str | None = None,
    assigned: dict[str, str] | None = None,
    keep: tuple[str, ...] = (),
) -> tuple[Profile, pd.DataFrame]:
    """Validate the table and return its profile and the rows usable for assessment.

    `assigned` gives columns whose role is already known (a text, image, node or neighbours column); `keep` names
    columns that look like identifiers but are used anyway (--keep). Every column left out is named in a warning
    with the reason and the flag that keeps it.
    """
    assigned = assigned or {}
    columns = [str(c) for c in frame.columns]
    frame = frame.copy()
    frame.columns = columns
    require_column(frame, target, "Target column")
    for name in keep:
        require_column(frame, name, "Column to keep (--keep)")
    for name, what in ((sensitive, "Sensitive column (--sensitive)"), (time_column, "Time column (--time-column)"),
                       (group_column, "Group column (--group-column)")):
        if name is not None:
            require_column(frame, name, what)
    for name in drop:
        require_column(frame, name, "Column to drop (--drop)")
    if task is not None and task not in TASKS:
        raise DepthgaugeError(f"Unknown task '{task}'. Use one of: {', '.join(TASKS)}.")
    if len(columns) < 2:
        raise DepthgaugeError("The data has only the target column. Add at least one feature column.")

    notes, warns = [], []
    empty = [c for c in columns if frame[c].isna().all()]
    if target in empty:
        raise DepthgaugeError(f"Target column '{target}' is entirely empty. Pass a column that holds the labels.")
    empty = [c for c in empty if c not in drop]
    if empty:
        listed = ", ".join(repr(c) for c in empty)
        raise DepthgaugeError(
            f"Column {listed} is entirely empty. Remove it from the file, or pass "
            + " ".join(f"--drop {c}" for c in empty) + " to leave it out."
        )

    missing_target = int(frame[target].isna().sum())
    if missing_target:
        frame = frame[frame[target].notna()].reset_index(drop=True)
        notes.append(f"{missing_target} rows without a target value were left out.")
    n_rows = len(frame)
    if n_rows < MIN_ROWS:
        raise DepthgaugeError(
            f"Only {n_rows} rows with a target value; an assessment needs at least {MIN_ROWS} "
            "to hold out a test set that means anything. Add more labelled rows."
        )
    y = frame[target]
    if y.nunique() < 2:
        raise DepthgaugeError(
            f"Target column '{target}' is constant (every row is {y.iloc[0]!r}): there is nothing to predict. "
            "Check that you named the right column."
        )
    detected = detect_task(y)
    if task is None:
        task = detected
    elif task == "binary" and y.nunique() != 2:
        raise DepthgaugeError(f"--task binary needs a target with two values; '{target}' has {y.nunique()}. Use --task multiclass.")
    elif task == "regression" and pd.to_numeric(y, errors="coerce").isna().any():
        raise DepthgaugeError(f"--task regression needs a numeric target; '{target}' holds text. Use --task multiclass or binary.")
    if task == "regression":
        frame[target] = pd.to_numeric(frame[target])

    classes = balance = None
    if task in ("binary", "multiclass"):
        counts = y.astype(str).value_counts()
        if len(counts) > MAX_CLASSES:
            raise DepthgaugeError(
                f"Target '{target}' has {len(counts)} distinct values, too many classes for classification. "
                "If it is a quantity, pass --task regression."
            )
        rare = counts[counts < MIN_ROWS_PER_CLASS]
        if len(rare):
            raise DepthgaugeError(
                f"Class {rare.index[0]!r} of target '{target}' has only {int(rare.iloc[0])} row(s); every class needs at "
                f"least {MIN_ROWS_PER_CLASS} to appear in train, validation and test. Remove those rows or merge the class."
            )
        classes = sorted(counts.index.tolist())
        balance = {k: round(float(v) / n_rows, 4) for k, v in counts.items()}
        minority = min(balance.values())
        if minority < IMBALANCE_SHARE:
            warns.append(
                f"Heavy class imbalance: the rarest class is {minority:.1%} of rows. Accuracy will flatter every "
                "model; judge by ROC-AUC, recall and the value matrix (--value)."
            )

    profiles = []
    excluded = {target, *drop}
    for name in columns:
        series = frame[name]
        if name in assigned:
            role, note = assigned[name], None
        else:
            role, note = ("target", None) if name == target else infer_role(series)
        if name in keep and role == "identifier":
            role = "numeric" if pd.api.types.is_numeric_dtype(series) else "categorical"
            note = "looks like an identifier; used as a feature with --keep"
        if name in drop:
            role, note = "dropped", "left out with --drop"
        elif name == group_column:
            role, note = "group", "used to split rows by group; not a feature"
        elif name == time_column:
            role, note = "time", "used to order the split; not a feature"
        if name not in excluded and role not in ("image", "node", "neighbors", "datetime", "time"):
            pii = _personal_data_kind(series)
            if pii:
                warns.append(
                    f"Column '{name}' looks like personal data ({pii}). Keep it out of models and prediction logs, "
                    f"or pass --drop {name}."
                )
        if role == "identifier":
            warns.append(f"Column '{name}' is not used: it looks like an identifier ({note.removesuffix('; dropped')}). "
                         f"Pass --keep {name} to use it.")
        elif role == "dropped":
            warns.append(f"Column '{name}' is not used: left out with --drop {name}; leave that flag out to use it.")
        unique = len(series) if role == "image" else int(series.nunique())  # arrays cannot be counted by value
        profiles.append(ColumnProfile(name, role, str(series.dtype), int(series.isna().sum()), unique, note))

    profile = Profile(n_rows, len(columns), target, task, profiles, classes, balance, warns, notes)
    if not profile.features() and not set(assigned.values()) & {"text", "image"}:
        raise DepthgaugeError(
            "No usable feature columns remain after dropping identifiers, free text and --drop columns. "
            "Add numeric or categorical columns."
        )
    if detected != task:
        notes.append(f"Task set to {task} by --task (the target looked like {detected}).")
    if n_rows < DEEP_MIN_ROWS:
        warns.append(
            f"Only {n_rows} rows: too few for a deep model to be meaningful (it is still trained for comparison, "
            f"but expect the simple models to win; deep tabular models usually need {DEEP_MIN_ROWS:,}+ rows)."
        )
    return profile, frame


def profile_unlabeled(frame: pd.DataFrame, drop: tuple[str, ...] = (), time_column: str | None = None,
                      group_column: str | None = None) -> tuple[Profile, pd.DataFrame]:
    """Profile a table without a target (anomaly detection): every column's role, and the same checks on bad input."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for name in drop:
        require_column(frame, name, "Column to drop (--drop)")
    if len(frame) < MIN_ROWS:
        raise DepthgaugeError(f"Only {len(frame)} rows; looking for anomalies needs at least {MIN_ROWS}. Add more rows.")
    empty = [c for c in frame.columns if frame[c].isna().all() and c not in drop]
    if empty:
        raise DepthgaugeError(f"Column {empty[0]!r} is entirely empty. Remove it from the file, or pass --drop {empty[0]}.")
    columns, warns = [], []
    for name in frame.columns:
        series = frame[name]
        role, note = infer_role(series)
        if name in drop:
            role, note = "dropped", "left out with --drop"
        elif name in (time_column, group_column):
            role, note = ("time" if name == time_column else "group"), "used to split rows; not a feature"
        elif role == "identifier":
            warns.append(f"Column '{name}' looks like an identifier ({note}).")
        columns.append(ColumnProfile(name, role, str(series.dtype), int(series.isna().sum()), int(series.nunique()),
                                     note))
    profile = Profile(len(frame), frame.shape[1], "", "anomaly", columns, warnings=warns,
                      notes=["No target: looking for anomalies. Quality cannot be measured without labels; pass "
                             "--target with a label column (anomaly or not) to measure it."])
    if not profile.features():
        raise DepthgaugeError("No usable feature columns remain after dropping identifiers, free text and --drop "
                              "columns. Add numeric or categorical columns.")
    return profile, frame


def single_feature_scores(train: pd.DataFrame, y_train: np.ndarray, validation: pd.DataFrame, y_val: np.ndarray,
                          features: list[str], task: str) -> dict[str, float]:
    """Return how well each feature alone predicts the target on validation rows, from 0 (chance) to 1 (perfect).

    A depth-6 tree on the one column, numeric or not; classification is scored by balanced
    accuracy rescaled so that chance is 0, regression by R². A near-perfect single column is
    the usual sign of leakage: a value recorded after, or because of, the outcome.
    """
    from sklearn.metrics import balanced_accuracy_score, r2_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rows, val_rows = min(len(train), 5000), min(len(validation), 5000)  # a near-perfect feature shows on a few thousand
    validation, y_val = validation.iloc[:val_rows], y_val[:val_rows]
    if task != "regression":  # integer labels: scikit-learn is far slower on strings
        labels = {v: i for i, v in enumerate(np.unique(np.concatenate([y_train[:rows], y_val])))}
        y_train = np.array([labels[v] for v in y_train[:rows]])
        y_val = np.array([labels[v] for v in y_val])
        chance = 1.0 / max(len(labels), 2)
    scores = {}
    for name in features:
        a, b = _single_feature(train[name].iloc[:rows], validation[name])
        model = DecisionTreeRegressor(max_depth=6) if task == "regression" else DecisionTreeClassifier(max_depth=6)
        model.fit(a, y_train[:rows])
        predicted = model.predict(b)
        if task == "regression":
            scores[name] = float(r2_score(y_val, predicted)) if len(y_val) > 1 else 0.0
        else:
            scores[name] = (float(balanced_accuracy_score(y_val, predicted)) - chance) / (1.0 - chance)
    return scores


def leak_warnings(scores: dict[str, float], task: str) -> list[str]:
    """Return a warning for each feature whose single-feature score says it alone predicts the target."""
    metric = "R²" if task == "regression" else "chance-corrected balanced accuracy"
    return [f"Column '{name}' alone predicts the target almost perfectly ({metric} {score:.3f} on validation): "
            f"likely leakage (information recorded after the outcome). Check it, or pass --drop {name}."
            for name, score in scores.items() if score >= LEAKAGE_SCORE]


def find_leaky_features(train: pd.DataFrame, y_train: np.ndarray, validation: pd.DataFrame, y_val: np.ndarray,
                        features: list[str], task: str) -> list[str]:
    """Return warnings for features that alone predict the target almost perfectly on the validation rows."""
    return leak_warnings(single_feature_scores(train, y_train, validation, y_val, features, task), task)


def _single_feature(train_col: pd.Series, val_col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_numeric_dtype(train_col) and not pd.api.types.is_bool_dtype(train_col):
        fill = -1e12
        return (train_col.fillna(fill).to_numpy(float).reshape(-1, 1), val_col.fillna(fill).to_numpy(float).reshape(-1, 1))
    codes = {v: i for i, v in enumerate(train_col.astype(str).unique())}
    encode = lambda s: s.astype(str).map(codes).fillna(-1).to_numpy(float).reshape(-1, 1)  # noqa: E731
    return encode(train_col), encode(val_col)

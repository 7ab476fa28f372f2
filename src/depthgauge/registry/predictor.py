"""`load_model`: a registered version (or a local artifact folder) as a predictor that checks its inputs."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from depthgauge.errors import DepthgaugeError


class UnseenCategoryWarning(UserWarning):
    """An input held a category the model never saw in training; it was answered as training handled rare ones."""


class Predictor:
    """A loaded model with `predict`, `predict_proba` and the input schema it was trained on.

    Inputs are checked against the schema by the same contract the HTTP service applies: a
    missing required value or a value of the wrong type raises `DepthgaugeError`, naming every
    problem; an unseen category is predicted with an `UnseenCategoryWarning`.
    """

    def __init__(self, model, ref: str | None, artifact_dir: Path, review_calibration: dict | None = None):
        from depthgauge.contract import InputContract

        self.model = model
        self.ref = ref
        self.artifact_dir = artifact_dir
        self.review_calibration = review_calibration  # the assessment's calibration map, for routing to review
        self.input_schema = model.input_schema()
        self.contract = InputContract(self.input_schema, ref)

    def _frame(self, X) -> pd.DataFrame:
        if isinstance(X, dict):
            X = [X]
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(list(X))
        checked, warned = self.contract.check_frame(frame)
        notes = [text for row in warned for _, text in row]
        if notes:
            more = f" (and {len(notes) - 3:,} more)" if len(notes) > 3 else ""
            warnings.warn("; ".join(notes[:3]) + more, UnseenCategoryWarning, stacklevel=3)
        return checked

    def predict(self, X):
        """Return predictions for a DataFrame, a list of records, or one record."""
        return self.model.predict(self._frame(X))

    def predict_proba(self, X):
        return self.model.predict_proba(self._frame(X))

    @property
    def classes_(self):
        return getattr(self.model, "classes_", None)


def load_model(reference: str | os.PathLike, home: str | os.PathLike | None = None, workspace=None) -> Predictor:
    """Return the predictor for `churn@production`, `churn:3`, `churn`, or a local artifact folder (no database).
    A caller that holds the workspace passes it (`workspace=`), so it is not opened a second time.

    A folder is loaded only when it is named as one: a `Path`, or text with a '/' in it (`./churn`). Anything
    else is a registry reference, so a folder in the working directory named like one (`churn:2`) can never
    stand in for the registered, digest-checked version."""
    from depthgauge.zoo import load_model as load_folder

    if is_folder(reference):
        folder = Path(reference)
        if not folder.is_dir():
            raise DepthgaugeError(f"No model folder at '{folder}'.")
        return Predictor(load_folder(folder), None, folder)
    if workspace is not None:
        return _from_workspace(workspace, str(reference), load_folder)
    from depthgauge.workspace import Workspace, resolve_home

    root = resolve_home(home)
    if not (root / "depthgauge.db").exists() and not os.environ.get("DEPTHGAUGE_DB_URL"):
        folder = f" The folder '{reference}' is loaded when written as a path: ./{reference}" if Path(
            reference).is_dir() else ""
        raise DepthgaugeError(f"No workspace at {root}, so no model '{reference}'. Pass home=..., or a local artifact "
                              f"folder.{folder}")
    with Workspace.open(root) as opened:
        return _from_workspace(opened, str(reference), load_folder)


def is_folder(reference: str | os.PathLike) -> bool:
    """Whether `reference` names a folder rather than a registry reference: a path object, or text with a '/'."""
    return isinstance(reference, os.PathLike) or "/" in str(reference) or os.sep in str(reference)


def _from_workspace(workspace, reference: str, load_folder) -> Predictor:
    from depthgauge.registry.service import resolve

    with workspace.session() as session:
        try:
            version = resolve(session, reference)
        except DepthgaugeError as exc:
            if Path(reference).is_dir():
                raise DepthgaugeError(f"{exc} To load the folder '{reference}' instead, write it as a path: "
                                      f"./{reference}") from None
            raise
        ref, digest = version.ref, version.artifact_digest
        calibration = (version.reference or {}).get("review_calibration")
    folder = workspace.artifacts.get_dir(digest, workspace.home / "models" / digest)  # verified on every load
    return Predictor(load_folder(folder), ref, folder, calibration)

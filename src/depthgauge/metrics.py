"""The metric catalog: which quality metrics each task reports, which is primary, which direction is better, and
how each is written for people. Computing them is `assess/quality.py`'s work."""

METRICS = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    "multiclass": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    "regression": ("mae", "rmse", "r2"),
}
LOWER_IS_BETTER = {"log_loss", "mae", "rmse"}
PRIMARY = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}
LABELS = {"accuracy": "accuracy", "precision": "precision", "recall": "recall", "f1": "F1", "roc_auc": "ROC-AUC",
          "log_loss": "log loss", "mae": "MAE", "rmse": "RMSE", "r2": "R²", "flagged_share": "share flagged"}

"""An answer path to each leaf of the advice tree."""

from __future__ import annotations

PREDICTIVE = {"vendor_solves": "no", "deterministic": "no", "generative": "no"}
UNSTRUCTURED = {**PREDICTIVE, "data_type": "images", "labels": "over_100k"}
GENERATIVE = {"vendor_solves": "no", "deterministic": "no", "generative": "yes"}

PATHS_TO_LEAVES = {
    "vendor_feature": {"vendor_solves": "yes"},
    "rules": {"vendor_solves": "unsure", "deterministic": "yes"},
    "rag": {**GENERATIVE, "fresh_knowledge": "yes", "consistent_behaviour": "no"},
    "hybrid_rag": {**GENERATIVE, "fresh_knowledge": "yes", "consistent_behaviour": "yes"},
    "pretrained_prompting": {**GENERATIVE, "fresh_knowledge": "no", "consistent_behaviour": "no"},
    "fine_tune": {**GENERATIVE, "fresh_knowledge": "no", "consistent_behaviour": "yes", "compute_budget": "high"},
    "classic_ml": {**PREDICTIVE, "data_type": "tabular"},
    "pretrained_api": {**PREDICTIVE, "data_type": "text", "labels": "under_1k"},
    "classic_ml_features": {**UNSTRUCTURED, "explainability": "yes"},
    "pretrained_api_managed": {**UNSTRUCTURED, "explainability": "no", "can_monitor": "no"},
    "custom_deep": {**UNSTRUCTURED, "explainability": "no", "can_monitor": "yes", "compute_budget": "medium"},
}

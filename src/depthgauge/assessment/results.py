"""Plain data passed between the assessment's stages: one candidate's five dimensions, and the whole assessment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from depthgauge.assessment.operations import Operations
from depthgauge.assessment.quality import Interval, Outcome
from depthgauge.cost.ownership import CostEstimate


@dataclass
class CandidateResult:
    name: str
    display_name: str
    family: str
    is_deep: bool
    status: str  # ok, failed or skipped
    params: dict
    fit_seconds: float = 0.0
    error: str | None = None
    quality: dict[str, Interval] = field(default_factory=dict)
    operations: Operations | None = None
    cost: CostEstimate | None = None
    risk: dict = field(default_factory=dict)
    business: dict = field(default_factory=dict)
    learning_curve: dict | None = None
    rules: list[str] | None = None
    artifact_digest: str | None = None
    split_scores: list[float | None] | None = None  # the primary metric on each repeated split (split 1 first)
    importance: dict | None = None  # permutation importance on the test rows (tables); see assess/importance.py
    reference: dict | None = field(default=None, repr=False)  # what monitoring compares live traffic with
    calibration: dict | None = field(default=None, repr=False)  # the validation rows' map; serving routes review by it
    outcome: Outcome | None = field(default=None, repr=False)
    model: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def scorecard_dict(self) -> dict:
        """Return the five dimensions as JSON-ready data."""
        ops = self.operations
        return {
            "quality": {k: v.as_dict() for k, v in self.quality.items()},
            "operations": None if ops is None else {
                "latency_p50_ms": ops.latency_p50_ms, "latency_p99_ms": ops.latency_p99_ms,
                "throughput_rows_per_s": ops.throughput_rows_per_s, "fit_seconds": ops.fit_seconds,
                "peak_memory_mb": ops.peak_memory_mb, "artifact_bytes": ops.artifact_bytes,
            },
            "cost": None if self.cost is None else self.cost.as_dict(),
            "risk": self.risk,
            "business": self.business,
            "importance": self.importance,
        }

    def to_dict(self) -> dict:
        return {
            "name": self.name, "display_name": self.display_name, "family": self.family, "is_deep": self.is_deep,
            "status": self.status, "error": self.error, "params": self.params, "fit_seconds": self.fit_seconds,
            "artifact_digest": self.artifact_digest, "scorecard": self.scorecard_dict(),
            "learning_curve": self.learning_curve, "rules": self.rules, "split_scores": self.split_scores,
        }

    def scorecard_row(self) -> dict:
        row: dict = {"candidate": self.name, "model": self.display_name, "deep": self.is_deep, "status": self.status}
        for metric, interval in self.quality.items():
            row[metric] = interval.value
            row[f"{metric}_low"] = interval.low
            row[f"{metric}_high"] = interval.high
        if self.operations is not None:
            ops = self.operations
            row.update(latency_p50_ms=ops.latency_p50_ms, latency_p99_ms=ops.latency_p99_ms,
                       throughput_rows_per_s=ops.throughput_rows_per_s, fit_seconds=ops.fit_seconds,
                       peak_memory_mb=ops.peak_memory_mb, artifact_bytes=ops.artifact_bytes)
        if self.cost is not None:
            row.update(training_cost_usd=self.cost.training_cost_usd,
                       cost_per_1k_predictions_usd=self.cost.cost_per_1k_predictions_usd,
                       instances=self.cost.instances, monthly_cost_usd=self.cost.monthly_total_usd)
        for key in ("false_positive_rate", "false_negative_rate", "calibration_error", "review_share", "explainability",
                    "error_rate", "timeout_rate"):
            if key in self.risk:
                row[key] = self.risk[key]
        if self.risk.get("group_gaps"):
            row.update({f"group_gap_{k}": v for k, v in self.risk["group_gaps"]["gaps"].items()})
        if self.business.get("monthly_net_value_usd") is not None:
            row["monthly_net_value_usd"] = self.business["monthly_net_value_usd"]
        return row


@dataclass
class Verdict:
    recommended: str
    deep_recommended: bool
    headline: str
    reasons: list[str]
    primary_metric: str
    best_simple: str | None = None
    deep: str | None = None
    deep_vs_simple: Interval | None = None
    simple_vs_baseline: Interval | None = None
    extra_monthly_cost: float | None = None  # the deep model's monthly cost of ownership minus the simple one's
    max_extra_cost: float = 100.0
    endpoint: str | None = None  # the best vendor endpoint, compared with the best of the project's own models
    endpoint_vs_own: Interval | None = None
    endpoint_extra_monthly_cost: float | None = None
    call: str = "inconclusive"  # deep_better, deep_worse, equivalent, inconclusive, or no_verdict (leaking data)
    call_reasons: list[str] = field(default_factory=list)
    suggested_budget_s: float | None = None  # when inconclusive: the budget the learning curves suggest
    rerun: str | None = None  # the command to run again with that budget, or without the leaking columns
    leaking_columns: list[str] = field(default_factory=list)
    min_effect: float | None = None  # the smallest difference worth acting on, in the primary metric
    min_effect_source: str | None = None
    interval_method: str | None = None  # how deep_vs_simple's interval was made
    split_differences: list[float] | None = None  # deep minus simple on each split, positive = deep better
    splits_won: dict | None = None  # {"deep": n, "simple": n, "tied": n}
    stability: float | None = None  # share of splits whose own call agrees with the call of the mean difference
    to_decide: str | None = None  # when inconclusive for lack of evidence: what would likely decide it
    summary: list[str] = field(default_factory=list)  # three lines for a product manager: use, cost and worth, how sure
    break_even: dict | None = None  # the monthly volume where the deep option's extra value pays its extra cost
    holds_at: dict | None = None  # whether the recommendation holds at a tenth and ten times the volume
    money_curves: dict | None = field(default=None, repr=False)  # net value a month of both options against volume
    no_model: dict | None = None  # with --value: what no model is worth, and what the recommended model adds
    dominant: list[dict] = field(default_factory=list)  # columns that carry most of a model's score (ask: known then?)

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        for key in ("deep_vs_simple", "simple_vs_baseline", "endpoint_vs_own"):
            out[key] = None if out[key] is None else out[key].as_dict()
        return out


@dataclass
class Assessment:
    """What `depthgauge.assess` gives back: the verdict, the scorecard and where the report is."""

    id: str
    verdict: Verdict
    candidates: list[CandidateResult]
    profile: dict
    split: dict
    options: dict
    dataset_fingerprint: str
    report_path: Path
    duration_s: float
    warnings: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)

    @property
    def scorecard(self) -> pd.DataFrame:
        """Return one row per candidate with all five dimensions."""
        return pd.DataFrame([c.scorecard_row() for c in self.candidates]).set_index("candidate")

    def to_dict(self) -> dict:
        return {
            "id": self.id, "verdict": self.verdict.to_dict(), "candidates": [c.to_dict() for c in self.candidates],
            "profile": self.profile, "split": self.split, "options": self.options,
            "dataset_fingerprint": self.dataset_fingerprint, "report_path": str(self.report_path),
            "duration_s": self.duration_s, "warnings": self.warnings, "registered": self.registered,
        }

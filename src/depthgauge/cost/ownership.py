"""What a candidate costs to own per month at the user's volume: the instances it needs at peak, the human review
of its unsure predictions, and its retraining. The verdict compares these totals, in dollars.

A busy-time price per 1,000 predictions ("less than $0.01") says nothing a buyer can budget with:
every real option pays for at least one always-on instance. So serving is priced as the instances
needed to carry the peak rate at a target utilisation, never fewer than the minimum kept on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from depthgauge.cost.catalog import Instance
from depthgauge.errors import DepthgaugeError
from depthgauge.money import usd

HOURS_PER_MONTH = 730.0
CADENCES = {"never": 0.0, "yearly": 1 / 12, "quarterly": 1 / 3, "monthly": 1.0, "weekly": 4.345, "daily": 30.44}
PARTS = ("serving", "human_review", "retraining")


@dataclass(frozen=True)
class CostTerms:
    """The assumptions every candidate is priced under; each is a `depthgauge assess` flag."""

    instance: Instance
    monthly_volume: int = 1_000_000
    peak_factor: float = 3.0  # --peak-factor: the busiest hour's rate over the month's average rate
    utilisation: float = 0.5  # --utilisation: the share of an instance's measured throughput planned for
    min_instances: int = 1  # --min-instances: kept on however quiet it is
    review_cost_usd: float = 0.5  # --review-cost: labour per reviewed prediction
    review_cost_source: str = "--review-cost"
    retrain_every: str = "monthly"  # --retrain-every
    latency_slo_ms: float | None = None  # --latency-slo: p99 single-row latency a deep model must meet, else a GPU
    gpu: Instance | None = None  # the cheapest GPU instance of the catalog, for a deep model that misses the SLO
    review_priced: bool = True  # human review is priced only when asked for (--review-threshold, --review-cost)

    def __post_init__(self):
        if not self.peak_factor >= 1:
            raise DepthgaugeError(f"--peak-factor is the busiest rate over the average rate, 1 or more, not "
                                  f"{self.peak_factor:g}. The default is 3.")
        if not 0 < self.utilisation <= 1:
            raise DepthgaugeError(f"--utilisation is the share of an instance's throughput to plan for, above 0 and "
                                  f"at most 1, not {self.utilisation:g}. The default is 0.5.")
        if self.min_instances < 0 or int(self.min_instances) != self.min_instances:
            raise DepthgaugeError(f"--min-instances is a whole number of 0 or more, not {self.min_instances}. "
                                  "The default is 1.")
        if not self.review_cost_usd >= 0:
            raise DepthgaugeError(f"--review-cost is dollars per reviewed prediction, 0 or more, not "
                                  f"{self.review_cost_usd:g}.")
        if self.retrain_every not in CADENCES:
            raise DepthgaugeError(f"--retrain-every '{self.retrain_every}' is not a cadence. Use one of: "
                                  f"{', '.join(CADENCES)}.")
        if self.latency_slo_ms is not None and not self.latency_slo_ms > 0:
            raise DepthgaugeError(f"--latency-slo is a p99 latency in milliseconds above 0, not {self.latency_slo_ms:g}.")

    @property
    def peak_rows_per_s(self) -> float:
        return self.monthly_volume / (HOURS_PER_MONTH * 3600) * self.peak_factor

    @property
    def retrains_per_month(self) -> float:
        return CADENCES[self.retrain_every]

    def stated(self) -> dict:
        """Return the assumptions as JSON-ready data, for the report, the CLI and `cost project`."""
        return {"instance": self.instance.name, "price_per_hour_usd": self.instance.price_per_hour_usd,
                "monthly_volume": self.monthly_volume, "peak_factor": self.peak_factor,
                "peak_rows_per_s": self.peak_rows_per_s, "utilisation": self.utilisation,
                "min_instances": self.min_instances, "review_cost_usd": self.review_cost_usd,
                "review_cost_source": self.review_cost_source, "retrain_every": self.retrain_every,
                "retrains_per_month": self.retrains_per_month, "latency_slo_ms": self.latency_slo_ms,
                "gpu_instance": self.gpu.name if self.gpu else None, "hours_per_month": HOURS_PER_MONTH,
                "review_priced": self.review_priced}


def instances_needed(peak_rows_per_s: float, throughput_rows_per_s: float, utilisation: float,
                     min_instances: int) -> int:
    """Return how many instances carry the peak rate with each loaded to `utilisation` of its measured throughput."""
    if not throughput_rows_per_s > 0 or not math.isfinite(throughput_rows_per_s):
        return max(min_instances, 1)
    return max(min_instances, math.ceil(peak_rows_per_s / (throughput_rows_per_s * utilisation) - 1e-9))


@dataclass
class CostEstimate:
    """One candidate's monthly cost of ownership, by part, with what each part assumed."""

    instance: str
    price_per_hour_usd: float
    instances: int
    training_cost_usd: float
    cost_per_1k_predictions_usd: float  # compute while busy, for comparison with per-call prices
    monthly_volume: int
    review_share: float
    monthly: dict[str, float]
    notes: list[str] = field(default_factory=list)
    review_cost_usd: float = 0.0  # per reviewed prediction

    @property
    def monthly_total_usd(self) -> float:
        return float(sum(self.monthly.values()))

    def as_dict(self) -> dict:
        return {**asdict(self), "monthly_total_usd": self.monthly_total_usd}

    def breakdown(self) -> str:
        """Return the total in words with its parts, e.g. "$147.17 / month: 2 × aws.m7i.large $147.17, ..."."""
        serving = (f"{self.instances} × {self.instance} {usd(self.monthly['serving'])}" if self.instances
                   else f"calls {usd(self.monthly['serving'])}")
        review = (f"review {usd(self.monthly['human_review'])}" if self.review_cost_usd
                  else f"review of {self.review_share:.1%} not priced")
        return (f"{usd(self.monthly_total_usd, '/ month')} ({serving}, {review}, "
                f"retraining {usd(self.monthly['retraining'])})")


def monthly_cost(fit_seconds: float, throughput_rows_per_s: float, latency_p99_ms: float | None,
                 review_share: float | None, is_deep: bool, terms: CostTerms) -> CostEstimate:
    """Return the monthly cost of ownership of a model measured on this machine."""
    instance, notes = terms.instance, []
    count = instances_needed(terms.peak_rows_per_s, throughput_rows_per_s, terms.utilisation, terms.min_instances)
    serving_instance = instance
    slow = (terms.latency_slo_ms is not None and latency_p99_ms is not None and math.isfinite(latency_p99_ms)
            and latency_p99_ms > terms.latency_slo_ms)
    if slow and is_deep and terms.gpu is not None:
        serving_instance = terms.gpu
        notes.append(f"Its p99 latency on CPU, {latency_p99_ms:.1f} ms, misses --latency-slo {terms.latency_slo_ms:g} ms, "
                     f"so it is priced on {terms.gpu.name} ({terms.gpu.gpu}). Measured on CPU only: the count of GPU "
                     "instances assumes the CPU throughput, an upper bound.")
    elif slow:
        notes.append(f"Its p99 latency on CPU, {latency_p99_ms:.1f} ms, misses --latency-slo {terms.latency_slo_ms:g} ms.")
    price = serving_instance.price_per_hour_usd
    share = 0.0 if review_share is None else float(review_share)
    training = fit_seconds * instance.price_per_hour_usd / 3600.0
    per_1k = (1000.0 / throughput_rows_per_s * price / 3600.0 if throughput_rows_per_s > 0 else float("inf"))
    monthly = {"serving": count * price * HOURS_PER_MONTH,
               "human_review": share * terms.monthly_volume * terms.review_cost_usd if terms.review_priced else 0.0,
               "retraining": training * terms.retrains_per_month}
    if count > max(terms.min_instances, 1):
        notes.append(f"{count} instances carry the peak of {terms.peak_rows_per_s:,.0f} rows/s at "
                     f"{terms.utilisation:.0%} of the {throughput_rows_per_s:,.0f} rows/s measured on this machine.")
    return CostEstimate(serving_instance.name, price, count, training, per_1k, terms.monthly_volume, share, monthly, notes,
                        terms.review_cost_usd if terms.review_priced else 0.0)


def call_cost(name: str, price_per_1k_usd: float, review_share: float | None, terms: CostTerms) -> CostEstimate:
    """Return the monthly cost of a vendor endpoint paid per call: the calls and the review of its unsure answers."""
    share = 0.0 if review_share is None else float(review_share)
    monthly = {"serving": price_per_1k_usd * terms.monthly_volume / 1000.0,
               "human_review": share * terms.monthly_volume * terms.review_cost_usd if terms.review_priced else 0.0,
               "retraining": 0.0}
    return CostEstimate(f"{name} price", 0.0, 0, 0.0, price_per_1k_usd, terms.monthly_volume, share, monthly, [],
                        terms.review_cost_usd if terms.review_priced else 0.0)


def terms_from_stated(stated: dict | None, catalog, instance: str, monthly_volume: int) -> CostTerms:
    """Return the terms an assessment stated (see `CostTerms.stated`), or the defaults for older assessments."""
    stated = stated or {}
    keys = ("peak_factor", "utilisation", "min_instances", "review_cost_usd", "review_cost_source", "retrain_every",
            "latency_slo_ms", "review_priced")
    given = {k: stated[k] for k in keys if stated.get(k) is not None}
    given.setdefault("review_cost_usd", catalog.review_cost_usd)
    return CostTerms(catalog.get(instance), monthly_volume, gpu=catalog.cheapest_gpu(), **given)

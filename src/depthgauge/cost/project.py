"""Project what running a model costs per month and per year, broken into categories, for several options at once.

Inputs come from a YAML file, from a stored assessment (measured training time, throughput and
review share), or both. Every assumption is returned with the result, so nothing is hidden.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from depthgauge.cost.catalog import DEFAULT_INSTANCE, PriceCatalog
from depthgauge.cost.ownership import CADENCES, CostTerms, call_cost, monthly_cost
from depthgauge.errors import DepthgaugeError
from depthgauge.units import parse_volume
from depthgauge.yamlfile import YamlDocument, read_yaml

CATEGORIES = ("serving", "human_review", "retraining", "storage_and_pipelines", "monitoring_and_operations",
              "governance")


@dataclass
class Assumptions:
    """What every option shares. Defaults are deliberately modest; change them to your own.

    Serving, review and retraining are priced exactly as an assessment prices its candidates
    (`cost/ownership.py`); `--from-assessment` starts from that assessment's own terms.
    """

    monthly_volume: int = 1_000_000
    retrain: str = "monthly"
    peak_factor: float = 3.0
    utilisation: float = 0.5
    min_instances: int = 1
    latency_slo_ms: float | None = None
    storage_gb: float = 10.0
    storage_price_per_gb_month_usd: float = 0.023
    pipelines_monthly_usd: float = 0.0
    monitoring_hours_per_month: float = 4.0
    engineer_hourly_usd: float = 100.0
    monitoring_compute_share: float = 0.05
    review_rate: float = 0.0  # for options that state none; an assessment's options carry their measured share
    cost_per_review_usd: float = 0.50
    governance_monthly_usd: float = 0.0

    @property
    def retrains_per_month(self) -> float:
        return CADENCES[self.retrain]

    def terms(self, instance, catalog: PriceCatalog, min_instances: int | None = None) -> CostTerms:
        return CostTerms(instance, self.monthly_volume, self.peak_factor, self.utilisation,
                         self.min_instances if min_instances is None else min_instances, self.cost_per_review_usd,
                         "cost_per_review_usd", self.retrain, self.latency_slo_ms, catalog.cheapest_gpu())


@dataclass
class CostOption:
    """One way to run the task: a model on an instance, or a pretrained API priced per call."""

    name: str
    instance: str | None = None
    training_hours: float = 0.0
    throughput_rows_per_s: float | None = None
    always_on_instances: int | None = None  # this option's minimum of instances; None: the assumptions'
    price_per_1k_calls_usd: float | None = None
    review_rate: float | None = None
    latency_p99_ms: float | None = None
    deep: bool = False
    source: str = "given"


@dataclass
class OptionCost:
    option: CostOption
    price_per_hour_usd: float | None
    monthly: dict[str, float]
    instances: int = 0
    serving_on: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def monthly_total(self) -> float:
        return sum(self.monthly.values())

    def to_dict(self) -> dict:
        return {"option": asdict(self.option), "price_per_hour_usd": self.price_per_hour_usd, "monthly": self.monthly,
                "instances": self.instances, "serving_on": self.serving_on, "notes": self.notes,
                "monthly_total_usd": self.monthly_total, "yearly_total_usd": 12 * self.monthly_total}


@dataclass
class CostProjection:
    assumptions: Assumptions
    options: list[OptionCost]
    catalog_as_of: str
    notes: list[str] = field(default_factory=list)
    id: str | None = None
    report_path: Path | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "assumptions": {**asdict(self.assumptions),
                                               "retrains_per_month": self.assumptions.retrains_per_month},
                "options": [o.to_dict() for o in self.options], "categories": list(CATEGORIES),
                "price_catalog_as_of": self.catalog_as_of, "notes": self.notes,
                "report_path": str(self.report_path) if self.report_path else None}

    def table(self):
        """Return a DataFrame: one row per option, one column per category, plus the totals."""
        import pandas as pd

        rows = [{"option": o.option.name, **o.monthly, "monthly_total_usd": o.monthly_total,
                 "yearly_total_usd": 12 * o.monthly_total} for o in self.options]
        return pd.DataFrame(rows).set_index("option")


def cost_option(option: CostOption, assumptions: Assumptions, catalog: PriceCatalog) -> OptionCost:
    """Return the monthly cost of `option` in every category."""
    review_rate = assumptions.review_rate if option.review_rate is None else option.review_rate
    if option.price_per_1k_calls_usd is not None:
        terms = assumptions.terms(catalog.get(DEFAULT_INSTANCE), catalog)
        owned = call_cost(option.name, option.price_per_1k_calls_usd, review_rate, terms)
        price = None
    else:
        terms = assumptions.terms(catalog.get(option.instance), catalog, option.always_on_instances)
        owned = monthly_cost(option.training_hours * 3600, option.throughput_rows_per_s, option.latency_p99_ms,
                             review_rate, option.deep, terms)
        price = owned.price_per_hour_usd
    costs = dict.fromkeys(CATEGORIES, 0.0)
    costs.update(owned.monthly)
    costs["storage_and_pipelines"] = assumptions.storage_gb * assumptions.storage_price_per_gb_month_usd \
        + assumptions.pipelines_monthly_usd
    costs["governance"] = assumptions.governance_monthly_usd
    people = assumptions.monitoring_hours_per_month * assumptions.engineer_hourly_usd
    costs["monitoring_and_operations"] = people + assumptions.monitoring_compute_share * costs["serving"]
    return OptionCost(option, price, costs, owned.instances, None if price is None else owned.instance, owned.notes)


def project(options: list[CostOption], assumptions: Assumptions, catalog: PriceCatalog,
            notes: list[str] | None = None) -> CostProjection:
    """Return the projection of every option under the same assumptions."""
    if not options:
        raise DepthgaugeError("No options to project. Give options in the file, or --from-assessment ID.")
    return CostProjection(assumptions, [cost_option(o, assumptions, catalog) for o in options], catalog.as_of,
                          notes or [])


# reading the file -------------------------------------------------------------------------------------

def _number(document: YamlDocument, value, *where, minimum: float = 0.0, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise document.error(f"expected a number, got {value!r}.", *where)
    if value < minimum:
        raise document.error(f"must be at least {minimum:g}, got {value}. Costs, volumes and rates cannot be negative.",
                             *where)
    if integer and int(value) != value:
        raise document.error(f"expected a whole number, got {value}.", *where)
    return int(value) if integer else float(value)


def parse_assumptions(raw: dict, document: YamlDocument | None = None, base: Assumptions | None = None) -> Assumptions:
    """Return assumptions from a mapping, checking every field (errors name the file, line and field)."""
    result = base or Assumptions()
    known = Assumptions.__dataclass_fields__
    for key, value in (raw or {}).items():
        where = ("assumptions", key)
        if key not in known:
            raise _error(document, f"unknown assumption '{key}'. Known: {', '.join(known)}.", *where)
        if key == "monthly_volume":
            try:
                volume = parse_volume(value if isinstance(value, (int, str)) else str(value))
            except DepthgaugeError as exc:
                raise _error(document, str(exc), *where) from None
            if volume < 0 or (isinstance(value, (int, float)) and value < 0) or str(value).strip().startswith("-"):
                raise _error(document, f"must not be negative, got {value}.", *where)
            result.monthly_volume = volume
        elif key == "retrain":
            if str(value) not in CADENCES:
                raise _error(document, f"unknown cadence '{value}'. Use one of: {', '.join(CADENCES)}.", *where)
            result.retrain = str(value)
        else:
            if document is None:
                document = YamlDocument(Path("<options>"), raw, {})
            if key == "latency_slo_ms" and value is None:
                result.latency_slo_ms = None
                continue
            setattr(result, key, _number(document, value, *where, integer=key == "min_instances",
                                         minimum=1.0 if key == "peak_factor" else 0.0))
    if not 0 <= result.review_rate <= 1 or not 0 <= result.monitoring_compute_share <= 1 \
            or not 0 < result.utilisation <= 1:
        raise _error(document, "review_rate, monitoring_compute_share and utilisation are shares between 0 and 1.",
                     "assumptions")
    return result


def _error(document: YamlDocument | None, message: str, *where) -> DepthgaugeError:
    if document is None:
        field = ".".join(str(w) for w in where)
        return DepthgaugeError(f"{field}: {message}")
    return document.error(message, *where)


def parse_option(raw: dict, index: int, document: YamlDocument, catalog: PriceCatalog) -> CostOption:
    where = ("options", index)
    if not isinstance(raw, dict) or "name" not in raw:
        raise document.error("each option needs at least a name, e.g. `- {name: trees on CPU, instance: aws.m7i.large, "
                             "throughput_rows_per_s: 20000}`.", *where)
    known = set(CostOption.__dataclass_fields__) - {"source", "deep", "latency_p99_ms"}
    for key in raw:
        if key not in known:
            raise document.error(f"unknown field '{key}'. Known: {', '.join(sorted(known))}.", *where, key)
    option = CostOption(name=str(raw["name"]))
    if raw.get("price_per_1k_calls_usd") is not None:
        option.price_per_1k_calls_usd = _number(document, raw["price_per_1k_calls_usd"], *where, "price_per_1k_calls_usd")
    else:
        if "instance" not in raw or "throughput_rows_per_s" not in raw:
            raise document.error("an option needs either price_per_1k_calls_usd (an API), or an instance and "
                                 "throughput_rows_per_s (a model you run).", *where)
        try:
            catalog.get(str(raw["instance"]))
        except DepthgaugeError as exc:
            raise document.error(str(exc), *where, "instance") from None
        option.instance = str(raw["instance"])
        option.throughput_rows_per_s = _number(document, raw["throughput_rows_per_s"], *where, "throughput_rows_per_s",
                                               minimum=1e-9)
        option.training_hours = _number(document, raw.get("training_hours", 0.0), *where, "training_hours")
        if raw.get("always_on_instances") is not None:
            option.always_on_instances = int(_number(document, raw["always_on_instances"], *where,
                                                     "always_on_instances", integer=True))
    if raw.get("review_rate") is not None:
        option.review_rate = _number(document, raw["review_rate"], *where, "review_rate")
        if option.review_rate > 1:
            raise document.error("review_rate is a share between 0 and 1.", *where, "review_rate")
    return option


def read_cost_file(path: str | Path, catalog: PriceCatalog,
                   base: Assumptions | None = None) -> tuple[Assumptions, list[CostOption]]:
    """Return the assumptions and options of a cost file, every field checked."""
    document = read_yaml(path, "Cost file")
    data = document.data or {}
    if not isinstance(data, dict):
        raise document.error("expected a mapping with `assumptions:` and `options:`.")
    unknown = set(data) - {"assumptions", "options"}
    if unknown:
        raise document.error(f"unknown section '{sorted(unknown)[0]}'. A cost file has `assumptions:` and `options:`.",
                             sorted(unknown)[0])
    raw_assumptions = data.get("assumptions") or {}
    if not isinstance(raw_assumptions, dict):
        raise document.error("`assumptions:` must be a mapping of name: value.", "assumptions")
    raw_options = data.get("options") or []
    if not isinstance(raw_options, list):
        raise document.error("`options:` must be a list.", "options")
    assumptions = parse_assumptions(raw_assumptions, document, base)
    return assumptions, [parse_option(o, i, document, catalog) for i, o in enumerate(raw_options)]


def options_from_assessment(assessment_row, instance: str | None = None) -> list[CostOption]:
    """Return one option per trained candidate of a stored assessment, from its measured figures."""
    options = []
    chosen = instance or assessment_row.options["instance"]
    for run in assessment_row.runs:
        if run.status != "ok":
            continue
        card = run.scorecard["scorecard"]
        if run.family == "endpoint":
            options.append(CostOption(name=run.candidate, price_per_1k_calls_usd=card["cost"]["cost_per_1k_predictions_usd"],
                                      review_rate=card["risk"].get("review_share") or 0.0,
                                      source=f"assessment {assessment_row.id}, candidate {run.candidate}"))
            continue
        options.append(CostOption(
            name=f"{run.candidate} on {chosen}", instance=chosen, training_hours=run.fit_seconds / 3600,
            throughput_rows_per_s=card["operations"]["throughput_rows_per_s"],
            review_rate=card["risk"].get("review_share") or 0.0,
            latency_p99_ms=card["operations"].get("latency_p99_ms"), deep=bool(run.is_deep),
            source=f"assessment {assessment_row.id}, candidate {run.candidate}",
        ))
    return options


def assumptions_from_assessment(options: dict) -> dict:
    """Return the assumptions an assessment priced its candidates under, as `parse_assumptions` takes them."""
    terms = options.get("cost_terms") or {}
    given = {"monthly_volume": options.get("monthly_volume"), "retrain": terms.get("retrain_every"),
             "peak_factor": terms.get("peak_factor"), "utilisation": terms.get("utilisation"),
             "min_instances": terms.get("min_instances"), "cost_per_review_usd": terms.get("review_cost_usd"),
             "latency_slo_ms": terms.get("latency_slo_ms")}
    if terms.get("review_priced") is False:  # the assessment showed the review share without pricing it
        given["cost_per_review_usd"] = 0.0
    return {k: v for k, v in given.items() if v is not None}

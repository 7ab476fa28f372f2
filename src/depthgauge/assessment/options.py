"""Parse the assessment's option strings (`5m`, `1000000/month`, `tp=40,fp=-5,fn=-60`), with clear errors."""

from __future__ import annotations

from dataclasses import dataclass, fields

from depthgauge.assessment.quality import BOOTSTRAP_RESAMPLES
from depthgauge.cost.catalog import DEFAULT_INSTANCE
from depthgauge.errors import DepthgaugeError
from depthgauge.units import parse_duration

VALUE_KEYS = {
    "binary": ("tp", "fp", "fn", "tn"),
    "multiclass": ("correct", "wrong"),
    "regression": ("error",),
}


@dataclass(frozen=True)
class ValueMatrix:
    """What each kind of outcome is worth, in the user's currency."""

    values: dict[str, float]

    def get(self, key: str) -> float:
        return self.values.get(key, 0.0)


def parse_value(text: str, task: str) -> ValueMatrix:
    """Return the value matrix for `tp=40,fp=-5,fn=-60,tn=0` (binary), `correct=..,wrong=..`, or `error=..`."""
    allowed = VALUE_KEYS[task]
    example = {"binary": "tp=40,fp=-5,fn=-60,tn=0", "multiclass": "correct=10,wrong=-20",
               "regression": "error=-2.5 (value per unit of absolute error)"}[task]
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, sep, number = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in allowed:
            raise DepthgaugeError(
                f"Malformed --value '{text}': '{part}' is not one of {', '.join(k + '=NUMBER' for k in allowed)} "
                f"for a {task} task. Example: --value {example}."
            )
        try:
            values[key] = float(number)
        except ValueError:
            raise DepthgaugeError(f"Malformed --value '{text}': '{number.strip()}' for {key} is not a number. "
                                  f"Example: --value {example}.") from None
    if not values:
        raise DepthgaugeError(f"Malformed --value '{text}': no values given. Example: --value {example}.")
    return ValueMatrix(values)


# The assessment's options, in three typed groups ------------------------------------------------------

DEFAULT_BUDGET = "5m"
DEFAULT_VOLUME = "1000000/month"
DEFAULT_REVIEW_THRESHOLD = 0.6  # the review share is shown at this calibrated confidence when none is given
MAX_REPEATS = 20


@dataclass(frozen=True)
class DataOptions:
    """What the data is and how its rows are split; each field is the `depthgauge assess` flag of the same name."""

    target: str | None = None
    task: str | None = None
    kind: str | None = None
    time_column: str | None = None
    group_column: str | None = None
    drop: tuple[str, ...] = ()
    positive: str | None = None
    sensitive: str | None = None
    encoding: str | None = None
    edges: str | None = None
    node_column: str | None = None
    horizon: int | None = None
    season: int | None = None
    contamination: float | None = None
    keep: tuple[str, ...] = ()  # columns that look like identifiers, used anyway (--keep)
    image_size: int | None = None  # images: the side of the square input; default from the data (data/images.py)


@dataclass(frozen=True)
class RunOptions:
    """How the run spends its time budget and where it trains."""

    time_budget: str | float = DEFAULT_BUDGET
    seed: int = 0
    executor: str = "local"
    ray_address: str | None = None
    tune: int = 0
    workers: int = 1
    repeats: int = 5  # train and score every candidate on this many splits (tables; see assess/repeats.py)
    resamples: int = BOOTSTRAP_RESAMPLES  # bootstrap resamples per interval (Python only)
    candidates: tuple[str, ...] | None = None  # the families to train (Python only; default: all for the kind)

    def __post_init__(self):
        from depthgauge.assessment.executors import check_executor

        check_executor(self.executor)
        if self.tune < 0:
            raise DepthgaugeError(f"--tune takes a number of trials (0 for none), not {self.tune}.")
        if self.workers < 1:
            raise DepthgaugeError(f"--workers takes a number of training processes of at least 1, not {self.workers}.")
        if self.tune or self.workers > 1:
            check_executor("ray")
        if not 1 <= self.repeats <= MAX_REPEATS:
            raise DepthgaugeError(f"--repeats takes a number of splits from 1 to {MAX_REPEATS}, not {self.repeats}. "
                                  "The default is 5; 1 scores one split with a bootstrap over its test rows.")

    @property
    def budget_s(self) -> float:
        return parse_duration(self.time_budget)


@dataclass(frozen=True)
class DecisionOptions:
    """What the verdict weighs: the metric, the economics, the rivals from outside, and whether to judge leaky data."""

    metric: str | None = None
    volume: str | int = DEFAULT_VOLUME
    instance: str = DEFAULT_INSTANCE
    prices: str | None = None
    value: str | None = None
    max_extra_cost: float = 100.0  # dollars a month deep learning may cost beyond the simple model without --value
    review_threshold: float | None = None  # None: the share under DEFAULT_REVIEW_THRESHOLD is shown, not priced
    review_cost: float | None = None  # dollars per reviewed prediction; None: the price catalog's
    peak_factor: float = 3.0
    utilisation: float = 0.5
    min_instances: int = 1
    retrain_every: str = "monthly"
    latency_slo: float | None = None  # p99 milliseconds a deep model must meet on CPU, else it is priced on a GPU
    endpoints: tuple[str, ...] = ()
    allow_leaky: bool = False
    min_effect: float | None = None  # the smallest difference worth acting on; default: see verdict.margin

    def __post_init__(self):
        if self.min_effect is not None and not self.min_effect >= 0:
            raise DepthgaugeError(f"--min-effect is the smallest difference in the primary metric worth acting on, "
                                  f"0 or more, not {self.min_effect}. Leave it out for 1% of the best simple score.")
        if not self.max_extra_cost >= 0:
            raise DepthgaugeError(f"--max-extra-cost is dollars a month, 0 or more, not {self.max_extra_cost:g}. "
                                  "The default is 100.")
        if self.review_threshold is not None and not 0 < self.review_threshold < 1:
            raise DepthgaugeError(f"--review-threshold must be between 0 and 1, not {self.review_threshold}. "
                                  "The default is 0.6.")


    @property
    def review_priced(self) -> bool:
        """Human review is priced only when the user asked for it, with --review-threshold or --review-cost."""
        return self.review_threshold is not None or self.review_cost is not None

    @property
    def threshold_for_review(self) -> float:
        return DEFAULT_REVIEW_THRESHOLD if self.review_threshold is None else self.review_threshold

    def cost_terms(self, catalog, monthly_volume: int):
        """Return the terms every candidate's monthly cost of ownership is priced under (checked there)."""
        from depthgauge.cost.ownership import CostTerms

        review = catalog.review_cost_usd if self.review_cost is None else self.review_cost
        source = ("--review-cost" if self.review_cost is not None
                  else f"the price catalog's default, {catalog.review_cost_basis}")
        return CostTerms(catalog.get(self.instance), monthly_volume, self.peak_factor, self.utilisation,
                         self.min_instances, review, source, self.retrain_every, self.latency_slo, catalog.cheapest_gpu(),
                         review_priced=self.review_priced)

    def assumed(self, terms) -> list[dict]:
        """Return every default that enters a money figure and was not given, each with the flag that changes it."""
        defaults = {f.name: f.default for f in fields(self)}
        stated = {  # field: (assumption, value as said, flag)
            "volume": ("monthly volume", f"{terms.monthly_volume:,} predictions a month"),
            "instance": ("instance", f"{terms.instance.name} at ${terms.instance.price_per_hour_usd:g} an hour"),
            "peak_factor": ("peak factor", f"the busiest hour runs at {self.peak_factor:g}× the average rate"),
            "utilisation": ("utilisation", f"instances planned at {self.utilisation:.0%} of measured throughput"),
            "min_instances": ("always on", f"at least {self.min_instances} instance(s) running"),
            "retrain_every": ("retraining", self.retrain_every),
        }
        out = [{"assumption": what, "value": value, "flag": "--" + name.replace("_", "-")}
               for name, (what, value) in stated.items() if getattr(self, name) == defaults[name]]

        def add(what: str, value: str, flag: str):
            out.append({"assumption": what, "value": value, "flag": flag})

        if not self.review_priced:
            add("human review", f"not priced; the share under {DEFAULT_REVIEW_THRESHOLD:g} calibrated confidence is "
                                "shown", "--review-threshold or --review-cost")
        elif self.review_cost is None:
            add("review cost", f"${terms.review_cost_usd:g} per reviewed prediction", "--review-cost")
        elif self.review_threshold is None:
            add("review threshold", f"predictions under {DEFAULT_REVIEW_THRESHOLD:g} calibrated confidence",
                "--review-threshold")
        return out


_PYTHON_ONLY = {"resamples", "candidates", "target"}


def command_line(source: str, *groups, name: str | None = None, **changes) -> str:
    """Return the `depthgauge assess` command that runs these options again, with `changes` (e.g. time_budget="9m"),
    keeping every flag of the original run, `--name` included."""
    import shlex
    from dataclasses import fields, replace

    data = source if source and not source.startswith("<") else "DATA.csv"
    parts = ["depthgauge", "assess", data]
    for group in groups:
        group = replace(group, **{k: v for k, v in changes.items() if k in {f.name for f in fields(group)}})
        if getattr(group, "target", None):
            parts += ["--target", group.target]
        for f in fields(group):
            value = getattr(group, f.name)
            if f.name in _PYTHON_ONLY or value == f.default or value in (None, (), []):
                continue
            flag = "--" + f.name.replace("_", "-")
            if isinstance(value, bool):
                parts.append(flag)
                continue
            for one in value if isinstance(value, (list, tuple)) else [value]:
                parts += [flag, f"{one:g}" if isinstance(one, float) else str(one)]
    if name:
        parts += ["--name", name]
    return shlex.join(parts)

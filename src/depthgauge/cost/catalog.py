"""The price catalog: a dated YAML of instance types and their hourly list prices, user-overridable."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml

from depthgauge.errors import DepthgaugeError

BUILTIN = Path(__file__).parent / "prices.yaml"
DEFAULT_INSTANCE = "aws.m7i.large"


@dataclass(frozen=True)
class Instance:
    name: str
    provider: str
    vcpus: int
    memory_gib: float
    gpu: str | None
    price_per_hour_usd: float


@dataclass(frozen=True)
class PriceCatalog:
    as_of: str
    source: str
    currency: str
    instances: tuple[Instance, ...]
    review_cost_usd: float = 0.5  # labour per reviewed prediction: the default of --review-cost
    review_cost_basis: str = "one minute of a reviewer at $30 an hour"

    def cheapest_gpu(self) -> Instance | None:
        """Return the cheapest instance with a GPU, where a deep model that misses its latency goal is priced."""
        gpus = [i for i in self.instances if i.gpu]
        return min(gpus, key=lambda i: i.price_per_hour_usd) if gpus else None

    def get(self, name: str) -> Instance:
        """Return the instance called `name`, or raise an error that lists close names."""
        for instance in self.instances:
            if instance.name == name:
                return instance
        names = [i.name for i in self.instances]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise DepthgaugeError(
            f"Unknown instance '{name}'.{hint} Known instances: {', '.join(names)}. "
            "Add your own with --prices FILE."
        )


def load_catalog(path: str | Path | None = None) -> PriceCatalog:
    """Return the catalog in `path`, or the built-in one."""
    source = Path(path) if path else BUILTIN
    if not source.exists():
        raise DepthgaugeError(f"Price file '{source}' not found. Pass a YAML file shaped like {BUILTIN.name}.")
    try:
        raw = yaml.safe_load(source.read_text())
        instances = tuple(
            Instance(str(i["name"]), str(i.get("provider", "")), int(i.get("vcpus", 0)), float(i.get("memory_gib", 0)),
                     i.get("gpu"), float(i["price_per_hour_usd"]))
            for i in raw["instances"]
        )
        if not instances or any(i.price_per_hour_usd < 0 for i in instances):
            raise ValueError("needs at least one instance and no negative price")
        review = raw.get("review", {}) or {}
        catalog = PriceCatalog(str(raw.get("as_of", "unknown")), str(raw.get("source", str(source))),
                               str(raw.get("currency", "USD")), instances,
                               float(review.get("cost_per_item_usd", 0.5)), str(review.get("basis", "not stated")))
        if catalog.review_cost_usd < 0:
            raise ValueError("review.cost_per_item_usd is negative")
        return catalog
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DepthgaugeError(
            f"Price file '{source}' is malformed ({exc}). Each instance needs a name and price_per_hour_usd; "
            f"see {BUILTIN} for the shape."
        ) from exc

"""What a candidate costs: training, per 1,000 predictions, and per month at the user's volume."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from depthgauge.cost.catalog import Instance


@dataclass
class CostEstimate:
    instance: str
    price_per_hour_usd: float
    training_cost_usd: float
    cost_per_1k_predictions_usd: float
    monthly_volume: int
    monthly_inference_cost_usd: float

    def as_dict(self) -> dict:
        return asdict(self)


def estimate_cost(fit_seconds: float, throughput_rows_per_s: float, instance: Instance, monthly_volume: int) -> CostEstimate:
    """Return the cost from measured time × the instance's hourly price.

    Predictions are priced at the measured batch throughput with the instance fully used;
    an always-on online service pays for idle time too (see the report's note).
    """
    price_per_second = instance.price_per_hour_usd / 3600.0
    per_1k = 1000.0 / throughput_rows_per_s * price_per_second if throughput_rows_per_s > 0 else float("inf")
    return CostEstimate(
        instance=instance.name,
        price_per_hour_usd=instance.price_per_hour_usd,
        training_cost_usd=fit_seconds * price_per_second,
        cost_per_1k_predictions_usd=per_1k,
        monthly_volume=monthly_volume,
        monthly_inference_cost_usd=per_1k * monthly_volume / 1000.0,
    )

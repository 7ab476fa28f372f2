"""depthgauge: deep learning, only where it earns its keep."""

from depthgauge.errors import DepthgaugeError

__version__ = "0.1.0"


def assess(data, target, **options):
    """Return an `Assessment`: baselines and deep models trained side by side, scored, and a verdict.

    `data` is a pandas DataFrame or a path to a CSV or Parquet file. See
    `depthgauge.assess.runner.assess` for every option.
    """
    from depthgauge.assess.runner import assess as _assess

    return _assess(data, target, **options)


__all__ = ["DepthgaugeError", "assess", "__version__"]

"""depthgauge: deep learning, only where it earns its keep.

`depthgauge.assess(data, target=...)` trains simple baselines and deep models side by side
and returns an `Assessment` with the verdict, the scorecard and the report path.
"""

from depthgauge.errors import DepthgaugeError

__version__ = "0.1.0"

# Imported last on purpose: importing the `depthgauge.assess` subpackage sets the package's
# `assess` attribute to that module; binding the function afterwards makes `depthgauge.assess` callable.
from depthgauge.assess.runner import assess  # noqa: E402

__all__ = ["DepthgaugeError", "assess", "__version__"]

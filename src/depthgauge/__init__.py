"""depthgauge: deep learning, only where it earns its keep.

`depthgauge.assess(data, target=...)` trains simple baselines and deep models side by side
and returns an `Assessment` with the verdict, the scorecard and the report path. The buyer's
toolkit: `advise`, `project_cost`, `checklist`, `mark_checklist`, `score_vendors`; the registry:
`load_model("churn@production")`.
"""

from depthgauge.errors import DepthgaugeError

__version__ = "0.1.0"

# Imported last on purpose: importing a subpackage such as `depthgauge.assess` sets the package
# attribute of that name to the module; binding the functions afterwards makes them callable.
from depthgauge.advise.service import give_advice as advise  # noqa: E402
from depthgauge.assess.runner import assess  # noqa: E402
from depthgauge.cost.service import run_cost_projection as project_cost  # noqa: E402
from depthgauge.govern.service import checklist, mark_checklist  # noqa: E402
from depthgauge.govern.service import run_vendor_scorecard as score_vendors  # noqa: E402
from depthgauge.registry.predictor import load_model  # noqa: E402

__all__ = ["DepthgaugeError", "advise", "assess", "checklist", "load_model", "mark_checklist", "project_cost",
           "score_vendors", "__version__"]

"""depthgauge: deep learning, only where it earns its keep.

`depthgauge.assess(data, target=...)` trains simple baselines and deep models side by side
and returns an `Assessment` with the verdict, the scorecard and the report path. The buyer's
toolkit: `advise`, `project_cost`, `checklist`, `mark_checklist`, `score_vendors`; the registry:
`load_model("churn@production")`.
"""

from depthgauge.errors import DepthgaugeError
from depthgauge.version import __version__

# The public functions load their modules on first use, so `import depthgauge` and `depthgauge --help`
# do not pay for torch, scikit-learn and LightGBM until something needs them.


def assess(data, target=None, **kwargs):
    """Return an `Assessment` of simple and deep candidates on `data`; see `depthgauge.assessment.runner.assess`."""
    from depthgauge.assessment.runner import assess as run_assessment

    endpoints = kwargs.pop("endpoints", ())
    if endpoints:  # vendor endpoints are measured beside the models, handed to the assessment as candidates
        from depthgauge.endpoint.candidate import endpoint_candidates

        kwargs["external"] = endpoint_candidates(endpoints)
    return run_assessment(data, target, **kwargs)


def advise(answers=None, **kwargs):
    """Return the advice and the id it is stored under; see `depthgauge.advice.service.give_advice`."""
    from depthgauge.advice.service import give_advice

    return give_advice(answers, **kwargs)


_LAZY = {
    "project_cost": ("depthgauge.cost.service", "run_cost_projection"),
    "checklist": ("depthgauge.govern.service", "checklist"),
    "mark_checklist": ("depthgauge.govern.service", "mark_checklist"),
    "score_vendors": ("depthgauge.govern.service", "run_vendor_scorecard"),
    "load_model": ("depthgauge.registry.predictor", "load_model"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'depthgauge' has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = ["DepthgaugeError", "advise", "assess", "checklist", "load_model", "mark_checklist", "project_cost",
           "score_vendors", "__version__"]

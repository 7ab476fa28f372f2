"""What one server holds (on `app.state.serving`): the workspace, the deployed models, the log writer, the key gate,
the metrics and the serving counts; and how it follows deployments made elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from depthgauge.serve import deploy as deployments
from depthgauge.serve.auth import KeyGate
from depthgauge.serve.batching import MicroBatcher
from depthgauge.serve.limits import KeyLimits
from depthgauge.serve.log import GroupCommitLog
from depthgauge.serve.predict import MAX_ROWS, Deployed, predict_rows
from depthgauge.serve.schema import record_model, request_model
from depthgauge.store.tables import ServingCountRow


class Metrics:
    """The server's Prometheus metrics, in a registry of its own."""

    def __init__(self):
        self.registry = registry = CollectorRegistry()
        self.requests = Counter("depthgauge_requests", "HTTP requests", ["route", "status"], registry=registry)
        self.latency = Histogram("depthgauge_request_seconds", "Request latency", ["route"], registry=registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.predictions = Counter("depthgauge_predictions", "Predictions logged", ["model"], registry=registry)
        self.queue_size = Gauge("depthgauge_review_queue", "Pending reviews", registry=registry)
        self.unseen = Counter("depthgauge_unseen_categories", "Inputs holding a category never seen in training",
                              ["model", "column"], registry=registry)
        self.backlog = Gauge("depthgauge_log_backlog", "Prediction records waiting to be committed", registry=registry)
        self.limited = Counter("depthgauge_limited", "Requests refused by a per-key limit", ["key", "limit"],
                               registry=registry)
        self.drift = Gauge("depthgauge_drift_score", "Importance-weighted share of drifted features (last monitor run)",
                           ["model"], registry=registry)
        self.alerts = Gauge("depthgauge_alerts_firing", "Alerts firing", ["model", "severity"], registry=registry)


@dataclass
class Job:
    """Background work the server runs in a thread every `every_s` seconds (checked on each follow tick)."""
    name: str
    every_s: float
    run: object  # () -> None
    last: float = field(default=0.0)
    runs: int = 0  # finished runs, for an operator or a test that waits on the next one


class Serving:
    def __init__(self, workspace, auth: bool):
        self.workspace = workspace
        self.models: dict[str, Deployed] = {}
        self.metrics = Metrics()
        self.limits = KeyLimits(workspace)
        self.gate = KeyGate(workspace, self.limits, auth,
                            on_limited=lambda key, limit: self.metrics.limited.labels(key, limit).inc())
        self.log: GroupCommitLog | None = None  # started with the app (its writer thread lives as long as it serves)
        self.served: dict[str, list[int]] = {}  # model -> [requests, 4xx, 5xx] since the last flush to serving_counts
        self.jobs: list[Job] = []

    def load(self, name: str, ref: str, review: dict) -> None:
        from depthgauge.registry.predictor import load_model

        predictor = load_model(ref, workspace=self.workspace)
        deployed = Deployed(ref, predictor, request_model(name, record_model(name, predictor.input_schema), MAX_ROWS),
                            [c["name"] for c in predictor.input_schema["columns"]], review)
        batching = review.get("batching")
        if batching:
            deployed.batcher = MicroBatcher(lambda rows: predict_rows(deployed, rows),
                                            float(batching.get("max_wait_ms", 2)), int(batching.get("max_rows", 128)))
        self.models[name] = deployed

    def follow_deployments(self) -> bool:
        """Load what is deployed and not yet served here (at start: everything; later: what was deployed elsewhere,
        by the CLI or other servers) and drop what was undeployed; return whether the served versions changed."""
        with self.workspace.session() as session:
            wanted = {d.model_name: d.ref for d in deployments.active_deployments(session)}
            policies = {name: deployments.review_policy(session, name) for name in wanted}
        changed = False
        for name, ref in wanted.items():
            if name not in self.models or self.models[name].ref != ref or self.models[name].review != policies[name]:
                self.load(name, ref, policies[name])
                changed = True
        for name in set(self.models) - set(wanted):
            self.models.pop(name)
            changed = True
        return changed

    def count(self, model: str, status: int) -> None:
        counts = self.served.setdefault(model, [0, 0, 0])
        counts[0] += 1
        counts[1] += 400 <= status < 500
        counts[2] += status >= 500

    def flush_counts(self) -> None:
        pending = {name: counts for name, counts in self.served.items() if counts[0]}
        if not pending:
            return
        for name in pending:
            self.served[name] = [0, 0, 0]
        with self.workspace.transaction() as session:
            session.add_all([ServingCountRow(model_name=name, requests=c[0], client_errors=c[1], server_errors=c[2])
                             for name, c in pending.items()])

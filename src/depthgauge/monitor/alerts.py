"""Alert rules (YAML), their evaluation against monitoring reports, stored alerts and webhook delivery.

A rule fires once when it is breached and resolves when it no longer is, so a scheduled monitor
does not repeat itself; each firing and resolution is stored, audited and, when a webhook is
set, POSTed as JSON with retries and a timeout.
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from depthgauge.govern import audit
from depthgauge.monitor.profiles import WindowSpec, parse_window
from depthgauge.store.tables import AlertRow, utcnow
from depthgauge.yamlfile import read_yaml

BUILTIN = Path(__file__).parent / "alerts.yaml"
ACTOR = "system:monitor"
_COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Rule:
    name: str
    metric: str
    comparison: str
    threshold: float
    window: str
    severity: str

    def breached(self, value: float | None) -> bool:
        return value is not None and _COMPARISONS[self.comparison](value, self.threshold)


@dataclass(frozen=True)
class Webhook:
    url: str | None
    timeout_s: float = 5.0
    retries: int = 3


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    webhook: Webhook
    source: str

    def windows(self) -> dict[str, WindowSpec]:
        return {rule.window: parse_window(rule.window) for rule in self.rules}


def rules_path(home: Path, given: str | Path | None) -> Path:
    """Return the rules in force: the file given, else the workspace's alerts.yaml, else the built-in defaults."""
    if given is not None:
        return Path(given)
    own = Path(home) / "alerts.yaml"
    return own if own.is_file() else BUILTIN


def load_rules(path: str | Path) -> RuleSet:
    """Return the rules in `path`; every malformed field is an error naming its line."""
    document = read_yaml(path, "Alert rules file")
    data = document.data if isinstance(document.data, dict) else None
    if data is None or not isinstance(data.get("rules"), list):
        raise document.error("needs a 'rules:' list. See the built-in example: " + str(BUILTIN))
    rules, names = [], set()
    for i, item in enumerate(data["rules"]):
        if not isinstance(item, dict):
            raise document.error("each rule is a mapping with name, metric, comparison, threshold", "rules", i)
        for key in ("name", "metric", "comparison", "threshold"):
            if key not in item:
                raise document.error(f"rule is missing '{key}'", "rules", i)
        if item["comparison"] not in _COMPARISONS:
            raise document.error(f"comparison must be one of {', '.join(_COMPARISONS)}, not {item['comparison']!r}",
                                 "rules", i, "comparison")
        try:
            threshold = float(item["threshold"])
        except (TypeError, ValueError):
            raise document.error(f"threshold must be a number, not {item['threshold']!r}", "rules", i, "threshold") from None
        severity = item.get("severity", "warning")
        if severity not in _SEVERITIES:
            raise document.error(f"severity must be one of {', '.join(_SEVERITIES)}, not {severity!r}", "rules", i, "severity")
        window = str(item.get("window", "10000"))
        try:
            parse_window(window)
        except Exception as exc:
            raise document.error(str(exc), "rules", i, "window") from None
        if item["name"] in names:
            raise document.error(f"two rules are called {item['name']!r}; names must be unique", "rules", i, "name")
        names.add(item["name"])
        rules.append(Rule(str(item["name"]), str(item["metric"]), item["comparison"], threshold, window, severity))
    hook = data.get("webhook") or {}
    if not isinstance(hook, dict):
        raise document.error("webhook is a mapping with url, timeout_s and retries", "webhook")
    url = hook.get("url")
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise document.error(f"webhook url must start with http:// or https://, not {url!r}", "webhook", "url")
    webhook = Webhook(None if url is None else str(url), float(hook.get("timeout_s", 5)), int(hook.get("retries", 3)))
    return RuleSet(tuple(rules), webhook, str(path))


def metric_value(report: dict, path: str) -> float | None:
    """Return the number at dotted `path` in `report`, or None where the report has none."""
    node: object = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def evaluate(session, model_name: str, ref: str, reports: dict[str, dict], rules: RuleSet) -> list[AlertRow]:
    """Fire newly breached rules and resolve recovered ones; return the alerts that changed (to be delivered)."""
    changed = []
    firing = {a.rule: a for a in session.scalars(select(AlertRow).where(AlertRow.model_name == model_name,
                                                                        AlertRow.status == "firing"))}
    for rule in rules.rules:
        value = metric_value(reports[rule.window], rule.metric)
        open_alert = firing.get(rule.name)
        if rule.breached(value):
            if open_alert is not None:
                open_alert.value = value
                continue
            report = reports[rule.window]
            message = (f"{model_name} ({ref}): {rule.metric} is {value:.4g}, {rule.comparison} {rule.threshold:g} "
                       f"over the {report['window']['spec']}.")
            if rule.metric.startswith("drift.") and report["drift"].get("drifted_features"):
                message += f" Drifted: {', '.join(report['drift']['drifted_features'][:5])}."
            alert = AlertRow(model_name=model_name, ref=ref, rule=rule.name, metric=rule.metric,
                             comparison=rule.comparison, threshold=rule.threshold, value=value, severity=rule.severity,
                             message=message)
            session.add(alert)
            session.flush()
            audit.record(session, ACTOR, "alert.fire", f"alert:{alert.id}",
                         {"model": model_name, "rule": rule.name, "value": value, "threshold": rule.threshold})
            changed.append(alert)
        elif open_alert is not None and value is not None:
            open_alert.status, open_alert.resolved_at, open_alert.value = "resolved", utcnow(), value
            audit.record(session, ACTOR, "alert.resolve", f"alert:{open_alert.id}", {"model": model_name,
                                                                                    "rule": rule.name, "value": value})
            changed.append(open_alert)
    return changed


def alert_dict(alert: AlertRow) -> dict:
    return {"id": alert.id, "model": alert.model_name, "ref": alert.ref, "rule": alert.rule, "metric": alert.metric,
            "comparison": alert.comparison, "threshold": alert.threshold, "value": alert.value,
            "severity": alert.severity, "status": alert.status, "message": alert.message,
            "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "delivery": alert.delivery, "delivery_attempts": alert.delivery_attempts,
            "delivery_error": alert.delivery_error}


def deliver(payload: dict, webhook: Webhook, sleep=time.sleep) -> tuple[str, int, str | None]:
    """POST `payload` to the webhook; return (delivered|failed, attempts, last error). 4xx answers are not retried."""
    error = None
    attempts = 0
    for attempt in range(webhook.retries + 1):
        attempts = attempt + 1
        try:
            response = httpx.post(webhook.url, json=payload, timeout=webhook.timeout_s)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code < 300:
                return "delivered", attempts, None
            error = f"HTTP {response.status_code}: {response.text[:200]}"
            if response.status_code < 500:
                break
        if attempt < webhook.retries:
            sleep(min(0.5 * 2 ** attempt, 8.0))
    return "failed", attempts, error

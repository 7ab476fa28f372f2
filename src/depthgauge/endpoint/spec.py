"""A vendor endpoint described in YAML: where to call, how to build the body from a row, where the answer is, its price.

The secret never enters the file or the workspace: the spec names the environment variable that holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from depthgauge.errors import DepthgaugeError
from depthgauge.yamlfile import YamlDocument, read_yaml

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_KEYS = {"name", "url", "method", "headers", "auth", "request", "response", "price", "timeout_s", "concurrency",
         "retries", "backoff_s", "example"}
EXAMPLE = """\
# A vendor endpoint for depthgauge: `depthgauge assess DATA --target COL --endpoint THIS_FILE`, `depthgauge probe THIS_FILE`
name: acme-sentiment                  # how it is named on the leaderboard
url: https://api.acme.example/v1/sentiment
method: POST
auth:                                 # the key is read from the environment when calls are made, never stored
  header: Authorization
  env: ACME_API_KEY
  prefix: "Bearer "
request:                              # the JSON body; "{column}" takes the row's value of that column
  document: {text: "{review}"}
response:                             # dotted paths into the JSON answer (list items by number: choices.0.text)
  prediction: result.label
  confidence: result.score            # optional: the vendor's confidence in its label
  labels: {POSITIVE: pos, NEGATIVE: neg}   # optional: the vendor's labels -> your target's classes
  tokens: usage.total_tokens          # optional: tokens billed, for a price per 1,000 tokens
price:
  per_call_usd: 0.001                 # and/or per_1k_tokens_usd
timeout_s: 10
concurrency: 8                        # calls in flight at once
retries: 3                            # on timeouts, 429 and 5xx, with exponential backoff (Retry-After honoured)
backoff_s: 0.5
example: {review: "The battery died after two days."}   # a row for `probe` when no --data is given
"""


@dataclass
class EndpointSpec:
    name: str
    url: str
    method: str
    request: object
    prediction_path: str
    confidence_path: str | None = None
    tokens_path: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    auth_header: str | None = None
    auth_env: str | None = None
    auth_prefix: str = ""
    price_per_call_usd: float = 0.0
    price_per_1k_tokens_usd: float = 0.0
    timeout_s: float = 10.0
    concurrency: int = 8
    retries: int = 3
    backoff_s: float = 0.5
    example: dict | None = None
    path: str = ""

    @property
    def columns(self) -> list[str]:
        """Return the row columns the request template reads, in order of first use."""
        found: list[str] = []
        _visit(self.request, lambda text: found.extend(c for c in _PLACEHOLDER.findall(text) if c not in found))
        return found

    def body(self, row: dict) -> object:
        """Return the JSON body for one row: a value that is exactly "{col}" keeps its type, others are text."""
        def fill(node):
            if isinstance(node, str):
                whole = _PLACEHOLDER.fullmatch(node)
                if whole:
                    return _plain(row[whole.group(1)])
                return _PLACEHOLDER.sub(lambda m: str(_plain(row[m.group(1)])), node)
            if isinstance(node, dict):
                return {k: fill(v) for k, v in node.items()}
            if isinstance(node, list):
                return [fill(v) for v in node]
            return node
        return fill(self.request)

    def request_hash(self, body: object) -> str:
        """Return the cache key of a call: method, URL and body (never the key), SHA-256."""
        text = json.dumps([self.method, self.url, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def auth_headers(self) -> dict[str, str]:
        """Return the static headers plus the auth header, its secret read from the environment now."""
        headers = dict(self.headers)
        if self.auth_header:
            secret = os.environ.get(self.auth_env or "")
            if not secret:
                raise DepthgaugeError(f"Endpoint '{self.name}' reads its key from the environment variable "
                                      f"{self.auth_env}, which is not set. Export it (export {self.auth_env}=...) "
                                      f"and run again; depthgauge never stores the key.")
            headers[self.auth_header] = self.auth_prefix + secret
        return headers

    def tokens(self, response) -> float | None:
        """Return the tokens billed for an answer (response.tokens), or None when not given or not a number."""
        if not self.tokens_path:
            return None
        try:
            return float(extract(response, self.tokens_path))
        except (KeyError, TypeError, ValueError):
            return None

    def cost_per_call(self, tokens: float | None) -> float:
        return self.price_per_call_usd + (tokens or 0.0) / 1000.0 * self.price_per_1k_tokens_usd

    def public(self) -> dict:
        """Return what is safe to store with an assessment: everything except the secret (which is never read here)."""
        return {"name": self.name, "url": self.url, "method": self.method, "price_per_call_usd": self.price_per_call_usd,
                "price_per_1k_tokens_usd": self.price_per_1k_tokens_usd, "timeout_s": self.timeout_s,
                "concurrency": self.concurrency, "retries": self.retries, "backoff_s": self.backoff_s,
                "auth_env": self.auth_env, "spec": self.path}


def _plain(value):
    """Return a JSON-ready scalar of a table cell (numpy and pandas values included)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _visit(node, on_text) -> None:
    if isinstance(node, str):
        on_text(node)
    elif isinstance(node, dict):
        for value in node.values():
            _visit(value, on_text)
    elif isinstance(node, list):
        for value in node:
            _visit(value, on_text)


def _number(doc: YamlDocument, data: dict, key: str, default: float, low: float, high: float, *path) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise doc.error(f"{key} must be a number from {low:g} to {high:g}, not {value!r}.", *path, key)
    return float(value)


def load_spec(path: str | os.PathLike) -> EndpointSpec:
    """Return the endpoint spec at `path`, checked; every mistake names its line and the fix."""
    doc = read_yaml(path, "Endpoint spec")
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("an endpoint spec is a mapping with url, request, response and price. See "
                        "`depthgauge probe --example` for one to copy.")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise doc.error(f"unknown key '{unknown[0]}'. Keys: {', '.join(sorted(_KEYS))}.", unknown[0])
    for key in ("url", "request", "response"):
        if key not in data:
            raise doc.error(f"the endpoint spec needs '{key}'. See `depthgauge probe --example`.")
    url = data["url"]
    if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
        raise doc.error(f"url must start with http:// or https://, not {url!r}.", "url")
    name = str(data.get("name") or Path(path).stem)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise doc.error(f"name must be letters, digits, '.', '_' or '-' (at most 64), not {name!r}.", "name")
    method = str(data.get("method", "POST")).upper()
    if method not in ("POST", "PUT", "GET"):
        raise doc.error(f"method must be POST, PUT or GET, not {method!r}.", "method")
    response = data["response"]
    if not isinstance(response, dict) or not isinstance(response.get("prediction"), str):
        raise doc.error("response needs 'prediction': the dotted path to the answer in the JSON response, "
                        "e.g. result.label.", "response")
    extra = sorted(set(response) - {"prediction", "confidence", "labels", "tokens"})
    if extra:
        raise doc.error(f"unknown key '{extra[0]}'. Keys: prediction, confidence, labels, tokens.", "response", extra[0])
    labels = response.get("labels") or {}
    if not isinstance(labels, dict):
        raise doc.error("labels maps the vendor's labels to your target's classes, e.g. {POSITIVE: pos}.",
                        "response", "labels")
    auth = data.get("auth") or {}
    if auth and (not isinstance(auth, dict) or not auth.get("header") or not auth.get("env")):
        raise doc.error("auth needs 'header' (e.g. Authorization) and 'env', the environment variable holding the "
                        "key. The key itself never goes in this file.", "auth")
    if auth and set(auth) - {"header", "env", "prefix"}:
        raise doc.error("auth takes header, env and prefix only; put the key in the environment variable named by "
                        "env, never in this file.", "auth")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise doc.error("headers is a mapping of header names to values.", "headers")
    price = data.get("price")
    if not isinstance(price, dict) or not set(price) & {"per_call_usd", "per_1k_tokens_usd"}:
        raise doc.error("price needs per_call_usd and/or per_1k_tokens_usd (0 for a free endpoint): the cost per "
                        "1,000 predictions is computed from it.", "price")
    if set(price) - {"per_call_usd", "per_1k_tokens_usd"}:
        raise doc.error("price takes per_call_usd and per_1k_tokens_usd only.", "price")
    if price.get("per_1k_tokens_usd") and not response.get("tokens"):
        raise doc.error("a price per 1,000 tokens needs response.tokens: the path to the tokens billed "
                        "(e.g. usage.total_tokens).", "response")
    example = data.get("example")
    if example is not None and not isinstance(example, dict):
        raise doc.error("example is one row: a mapping of column names to values.", "example")
    spec = EndpointSpec(
        name=name, url=url, method=method, request=data["request"], prediction_path=response["prediction"],
        confidence_path=response.get("confidence"), tokens_path=response.get("tokens"),
        labels={str(k): str(v) for k, v in labels.items()}, headers={str(k): str(v) for k, v in headers.items()},
        auth_header=auth.get("header"), auth_env=auth.get("env"), auth_prefix=str(auth.get("prefix", "")),
        price_per_call_usd=_number(doc, price, "per_call_usd", 0.0, 0.0, 1000.0, "price"),
        price_per_1k_tokens_usd=_number(doc, price, "per_1k_tokens_usd", 0.0, 0.0, 1000.0, "price"),
        timeout_s=_number(doc, data, "timeout_s", 10.0, 0.01, 600.0),
        concurrency=int(_number(doc, data, "concurrency", 8, 1, 256)),
        retries=int(_number(doc, data, "retries", 3, 0, 10)),
        backoff_s=_number(doc, data, "backoff_s", 0.5, 0.0, 60.0),
        example=example, path=str(path),
    )
    if not spec.columns:
        raise doc.error("the request template uses no column: put \"{column}\" where a row's value goes, "
                        "e.g. {text: \"{review}\"}.", "request")
    return spec


def check_columns(spec: EndpointSpec, columns: list[str], target: str | None) -> None:
    """Raise a clear error when the template reads a column the data lacks, or the answer itself."""
    missing = [c for c in spec.columns if c not in columns]
    if missing:
        raise DepthgaugeError(f"Endpoint '{spec.name}' ({spec.path}): the request template reads column "
                              f"'{missing[0]}', which the data does not have. Columns: {', '.join(map(str, columns))}.")
    if target is not None and target in spec.columns:
        raise DepthgaugeError(f"Endpoint '{spec.name}' ({spec.path}): the request template sends the target column "
                              f"'{target}' — the endpoint would see the answer. Remove it from the template.")


def extract(document, path: str):
    """Return the value at a dotted `path` of a JSON document; KeyError names the part that is missing."""
    node = document
    for part in path.split("."):
        if isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(part)
    return node

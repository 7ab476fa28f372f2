"""A vendor-like AI endpoint for the tests and the benchmark: a real HTTP server on loopback.

It answers with a label, a confidence and a token count, checks a bearer key, and on cue fails (500),
rate-limits (429 with Retry-After), times out or answers with something that is not JSON:
- the first `fail_first` requests get 500 and the next `rate_limit_first` get 429;
- a text containing [[slow]] is answered after `slow_s` seconds; [[fail]] always gets 500; [[bad]] gets HTML;
  [[400]] gets 400.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _text_of(body) -> str:
    return json.dumps(body) if not isinstance(body, str) else body


class VendorServer:
    def __init__(self, answer, key: str = "test-key", delay_s: float = 0.0, slow_s: float = 2.0):
        self.answer, self.key, self.delay_s, self.slow_s = answer, key, delay_s, slow_s
        self.fail_first = self.rate_limit_first = 0
        self.requests = 0
        self.bodies: list = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one small answer per request: no 40 ms delayed-ACK stalls

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, payload: bytes, content_type="application/json", headers=()):
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): what a real server sees too

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server.lock:
                    server.requests += 1
                    n = server.requests
                if self.headers.get("Authorization") != f"Bearer {server.key}":
                    return self._send(401, b'{"error": "invalid API key"}')
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    return self._send(400, b'{"error": "body is not JSON"}')
                with server.lock:
                    server.bodies.append(body)
                text = _text_of(body)
                if n <= server.fail_first:
                    return self._send(500, b'{"error": "internal"}')
                if n <= server.fail_first + server.rate_limit_first:
                    return self._send(429, b'{"error": "slow down"}', headers=[("Retry-After", "0")])
                if "[[fail]]" in text:
                    return self._send(500, b'{"error": "internal"}')
                if "[[400]]" in text:
                    return self._send(400, b'{"error": "input rejected"}')
                if "[[bad]]" in text:
                    return self._send(200, b"<html>maintenance</html>", "text/html")
                time.sleep(server.slow_s if "[[slow]]" in text else server.delay_s)
                try:
                    payload = server.answer(body)
                except Exception as exc:  # an input the vendor cannot handle
                    return self._send(422, json.dumps({"error": str(exc)}).encode())
                self._send(200, json.dumps(payload).encode())

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that gave up mid-request is not news
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/classify"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "VendorServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def spec_text(url: str, *, column: str, price: float = 0.002, timeout_s: float = 1.0, retries: int = 2,
              concurrency: int = 4, labels: dict | None = None, name: str = "acme") -> str:
    """Return an endpoint spec (YAML) for the server at `url`, reading `column` of each row."""
    mapping = "" if not labels else "  labels: {" + ", ".join(f"{k}: {v}" for k, v in labels.items()) + "}\n"
    return (f"name: {name}\nurl: {url}\nauth: {{header: Authorization, env: ACME_KEY, prefix: 'Bearer '}}\n"
            f"request: {{document: {{text: '{{{column}}}'}}}}\n"
            f"response:\n  prediction: result.label\n  confidence: result.score\n  tokens: usage.tokens\n{mapping}"
            f"price: {{per_call_usd: {price}}}\ntimeout_s: {timeout_s}\nconcurrency: {concurrency}\n"
            f"retries: {retries}\nbackoff_s: 0.01\nexample: {{{column}: 'an example row'}}\n")

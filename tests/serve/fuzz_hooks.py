"""Schemathesis hooks for the API fuzz run (loaded through tests/serve/schemathesis.toml).

One check of our own on top of schemathesis's: a viewer key gets 403 from every documented state-changing
operation, whatever the body, path or query holds. The one answer before the key is read is 413: a body over
the size limit is refused unread, from anyone. The viewer's token comes in DEPTHGAUGE_FUZZ_VIEWER.
"""

import os

import schemathesis

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@schemathesis.check
def viewer_is_refused_every_change(ctx, response, case):
    viewer = os.environ.get("DEPTHGAUGE_FUZZ_VIEWER")
    request = response.request
    sent = request.headers.get("Authorization", "")
    method = request.method.upper()
    documented = case.operation.method.upper()
    if viewer and sent == f"Bearer {viewer}" and method in STATE_CHANGING and method == documented:
        if response.status_code not in (403, 413):
            raise AssertionError(f"A viewer key's {method} {case.path} was answered {response.status_code}, not 403.")

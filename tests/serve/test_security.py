"""Security headers on every response, the self-contained report sandboxed, and HTTPS served directly with the
session cookie then marked Secure."""

import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers.cli import run_cli
from tests.helpers.servers import client, free_port, private_copy


def _directives(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_every_response_carries_the_security_headers_and_the_report_is_sandboxed(server):
    from sqlalchemy import select

    from depthgauge.store.tables import AssessmentRow
    from depthgauge.workspace import Workspace

    url, tokens, home = server
    with Workspace.open(home) as workspace, workspace.session() as session:
        assessment_id = session.scalars(select(AssessmentRow.id)).first()
    with client(url) as c:
        login, api = c.get("/login"), c.get("/readyz")
        signed_in = c.post("/login", data={"key": tokens["viewer"], "next": "/"})
        report = c.get(f"/assessments/{assessment_id}/report")
    assert signed_in.status_code == 303 and report.status_code == 200 and "Plotly.newPlot" in report.text
    for response in (login, api, signed_in, report):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    for response in (login, api, signed_in):
        rules = _directives(response)
        assert rules["script-src"] == "script-src 'self'"  # no inline scripts run on the dashboard
        assert rules["frame-ancestors"] == "frame-ancestors 'none'" and "base-uri" in rules
    assert "<script" not in login.text
    sandboxed = _directives(report)
    assert sandboxed["sandbox"] == "sandbox allow-scripts"  # an opaque origin: no dashboard cookie, no same-origin calls
    assert "allow-same-origin" not in report.headers["content-security-policy"]
    assert "connect-src" not in sandboxed and sandboxed["default-src"] == "default-src 'none'"


def _self_signed(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_is_served_directly_and_the_session_cookie_is_then_secure(served_workspace, tmp_path, monkeypatch):
    home = private_copy(served_workspace, tmp_path, monkeypatch)
    cert, key = _self_signed(tmp_path)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "depthgauge", "--home", str(home), "serve", "--port", str(port),
                                "--monitor-every", "0", "--tls-cert", str(cert), "--tls-key", str(key)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    trust = ssl.create_default_context(cafile=str(cert))
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1, verify=trust).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.time() < deadline and process.poll() is None, "the server did not start"
                time.sleep(0.1)
        with httpx.Client(base_url=url, verify=trust) as c:
            signed_in = c.post("/login", data={"key": served_workspace[1]["viewer"], "next": "/"})
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)  # no plain HTTP on that port
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert f"serving on https://127.0.0.1:{port}" in err


def test_half_a_tls_pair_or_files_that_do_not_load_are_refused_before_serving(tmp_path):
    half = run_cli("--home", str(tmp_path / "ws"), "serve", "--tls-cert", str(tmp_path / "cert.pem"))
    assert half.returncode == 2 and "needs both --tls-cert and --tls-key" in half.stderr
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    bad = run_cli("--home", str(tmp_path / "ws"), "serve", "--tls-cert", str(tmp_path / "cert.pem"),
                  "--tls-key", str(tmp_path / "key.pem"))
    assert bad.returncode == 2 and "do not load as a PEM certificate and its private key" in bad.stderr
    assert not (tmp_path / "ws").exists()

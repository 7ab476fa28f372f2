"""The artifact store on a real S3-compatible server (moto's, on loopback): same addressing, same verification."""

import socket

import numpy as np
import pytest

import depthgauge
from depthgauge.data.synth import churn_table
from depthgauge.errors import DepthgaugeError
from depthgauge.store.artifacts import ArtifactStore

BUCKET = "depthgauge-tests"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """An empty bucket on the loopback S3 server, with the settings a user would export."""
    import s3fs

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("DEPTHGAUGE_S3_ENDPOINT", s3_endpoint)):
        monkeypatch.setenv(name, value)
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, use_listings_cache=False)
    if fs.exists(BUCKET):
        fs.rm(BUCKET, recursive=True)
    fs.mkdir(BUCKET)
    return fs


def _folder(tmp_path, content: bytes):
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "weights.safetensors").write_bytes(content)
    (folder / "model.json").write_text('{"family": "linear"}')
    return folder


def test_round_trip_through_s3_is_content_addressed_like_the_local_store(s3, tmp_path):
    folder = _folder(tmp_path, b"\x00\x01weights")
    remote = ArtifactStore(f"s3://{BUCKET}/team-a")
    local = ArtifactStore(tmp_path / "local")
    digest = remote.put_dir(folder)
    assert digest == local.put_dir(folder), "the address does not depend on where the blobs live"
    assert remote.put_dir(folder) == digest
    restored = remote.get_dir(digest, tmp_path / "restored")
    assert (restored / "weights.safetensors").read_bytes() == b"\x00\x01weights"
    assert s3.exists(f"{BUCKET}/team-a/sha256/{digest[:2]}/{digest}")
    assert remote.size_bytes(digest) == len(b"\x00\x01weights") + len('{"family": "linear"}')


def test_a_changed_or_missing_object_in_the_bucket_is_refused(s3, tmp_path):
    remote = ArtifactStore(f"s3://{BUCKET}/team-a")
    digest = remote.put_dir(_folder(tmp_path, b"original"))
    import hashlib

    weights = hashlib.sha256(b"original").hexdigest()
    s3.pipe_file(f"{BUCKET}/team-a/sha256/{weights[:2]}/{weights}", b"tampered")
    with pytest.raises(DepthgaugeError, match="does not match its SHA-256"):
        remote.get_dir(digest, tmp_path / "out")
    s3.rm(f"{BUCKET}/team-a/sha256/{weights[:2]}/{weights}")
    with pytest.raises(DepthgaugeError, match="is missing from s3://"):
        remote.get_dir(digest, tmp_path / "out2")


def test_an_unsafe_file_name_in_an_s3_manifest_writes_nothing(s3, tmp_path):
    import json

    remote = ArtifactStore(f"s3://{BUCKET}/team-a")
    blob = remote._put_bytes(b"payload")
    manifest = remote._put_bytes(json.dumps({"format": "depthgauge-artifact/1",
                                             "files": {"../escape.txt": blob}}).encode())
    with pytest.raises(DepthgaugeError, match="unsafe file"):
        remote.get_dir(manifest, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "dest").exists()


def test_an_assessed_model_lives_in_s3_and_loads_from_there(s3, tmp_path, monkeypatch):
    monkeypatch.setenv("DEPTHGAUGE_ARTIFACTS", f"s3://{BUCKET}/workspace")
    home = tmp_path / "ws"
    data = churn_table(500, 6, seed=3)
    assessment = depthgauge.assess(data, target="churned", time_budget="15s", home=home, resamples=100, name="churn",
                                   candidates=("dummy", "lightgbm"))
    assert not (home / "artifacts").exists(), "no blob is written locally"
    assert len(s3.find(f"{BUCKET}/workspace")) >= 4
    model = depthgauge.load_model(assessment.registered[1], home=home)
    X = data.drop(columns=["churned"]).head(20)
    expected = next(c for c in assessment.candidates if c.name == "lightgbm").model.predict_proba(X)
    assert np.allclose(model.predict_proba(X), expected)


def test_a_malformed_s3_location_is_a_clear_error(s3):
    with pytest.raises(DepthgaugeError, match="not an S3 location"):
        ArtifactStore("s3://")

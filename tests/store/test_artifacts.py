import hashlib
import json
import pickle  # noqa: S403 - only to craft a malicious file that loading must refuse

import pytest

from depthgauge.errors import DepthgaugeError
from depthgauge.store.artifacts import ArtifactStore
from depthgauge.zoo import load_model

MARKER = "depthgauge_pwned"


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, (f"touch {MARKER}",))


def test_round_trip_is_content_addressed(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.json").write_text('{"a": 1}')
    (folder / "weights.bin").write_bytes(b"\x00\x01")
    store = ArtifactStore(tmp_path / "store")
    digest = store.put_dir(folder)
    assert digest == store.put_dir(folder)  # same content, same address
    out = store.get_dir(digest, tmp_path / "out")
    assert (out / "weights.bin").read_bytes() == b"\x00\x01"
    assert store.size_bytes(digest) == len('{"a": 1}') + 2


def test_tampered_blob_is_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.json").write_text('{"a": 1}')
    store = ArtifactStore(tmp_path / "store")
    digest = store.put_dir(folder)
    blob = store.blobs.path(hashlib.sha256(b'{"a": 1}').hexdigest())
    blob.write_text('{"a": 2}')
    with pytest.raises(DepthgaugeError, match="does not match its SHA-256"):
        store.get_dir(digest, tmp_path / "out")


def _plant_manifest(store: ArtifactStore, files: dict[str, bytes]) -> str:
    names = {name: store._put_bytes(data) for name, data in files.items()}
    return store._put_bytes(json.dumps({"format": "depthgauge-artifact/1", "files": names}).encode())


def test_path_traversal_name_is_refused_and_nothing_is_written(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    digest = _plant_manifest(store, {"../../escape.txt": b"owned"})
    with pytest.raises(DepthgaugeError, match="unsafe file"):
        store.get_dir(digest, tmp_path / "a" / "b" / "out")
    assert not (tmp_path / "a" / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()


def test_pickled_payload_never_runs(tmp_path, monkeypatch):
    """A crafted artifact whose weights are a pickle that would run a command: loading refuses, nothing runs."""
    monkeypatch.chdir(tmp_path)
    payload = pickle.dumps(_RunsCode())
    state = {"family": "mlp", "task": "binary", "roles": {"numeric": ["x"], "categorical": [], "boolean": [], "datetime": []},
             "seed": 0, "params": {}, "classes": ["a", "b"],
             "encoder": {"numeric": ["x"], "categorical": [], "boolean": [], "datetime": [], "max_categories": 64,
                         "numeric_names": ["x"], "numeric_stats": {"x": {"median": 0, "scale": 1, "quantiles": [0, 1],
                                                                        "has_missing": False}}, "categories": {}},
             "extra": {"n_numeric": 1}}
    store = ArtifactStore(tmp_path / "store")
    digest = _plant_manifest(store, {"model.json": json.dumps(state).encode(), "mlp.safetensors": payload})
    folder = store.get_dir(digest, tmp_path / "loaded")
    with pytest.raises(DepthgaugeError, match="cannot be loaded.*nothing in them was executed"):
        load_model(folder)
    assert not (tmp_path / MARKER).exists()


def test_src_has_no_pickle_family_code():
    from pathlib import Path

    import depthgauge

    src = Path(depthgauge.__file__).parent
    for path in src.rglob("*.py"):
        text = path.read_text()
        for banned in ("import pickle", "import joblib", "cloudpickle", "import dill"):
            assert banned not in text, f"{path} uses {banned}"
        if "torch.load(" in text:
            assert "weights_only=True" in text, path

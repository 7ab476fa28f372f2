"""Content-addressed artifact store: every file is kept under its SHA-256 and verified on load.

A model artifact is a folder of plain files (JSON, safetensors, LightGBM text). `put_dir`
stores each file by digest plus a JSON manifest naming them; the manifest's digest is the
artifact's address. `get_dir` checks every digest and refuses unsafe names before writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from depthgauge.errors import DepthgaugeError

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and "\x00" not in name


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _blob_path(self, digest: str) -> Path:
        return self.root / "sha256" / digest[:2] / digest

    def _put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self._write_blob(digest, data)
        return digest

    def _write_blob(self, digest: str, data: bytes) -> None:
        target = self._blob_path(digest)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_dir(self, folder: Path) -> str:
        """Store every file of `folder` (flat) and return the digest of its manifest."""
        files = {}
        for path in sorted(Path(folder).iterdir()):
            if not path.is_file():
                raise DepthgaugeError(f"Artifact folder {folder} holds '{path.name}', which is not a plain file.")
            files[path.name] = self._put_bytes(path.read_bytes())
        manifest = json.dumps({"format": "depthgauge-artifact/1", "files": files}, sort_keys=True).encode()
        return self._put_bytes(manifest)

    def _read_verified(self, digest: str) -> bytes:
        path = self._blob_path(digest)
        if not path.exists():
            raise DepthgaugeError(f"Artifact blob {digest[:12]} is missing from {self.root}; the workspace is incomplete.")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise DepthgaugeError(
                f"Artifact blob {digest[:12]} does not match its SHA-256: the file was changed or corrupted. "
                "Refusing to load it; re-run the assessment to rebuild the artifact."
            )
        return data

    def size_bytes(self, digest: str) -> int:
        manifest = json.loads(self._read_verified(digest))
        return sum(self._blob_path(d).stat().st_size for d in manifest["files"].values())

    def get_dir(self, digest: str, dest: Path) -> Path:
        """Write the verified files of artifact `digest` into `dest` and return it."""
        manifest = json.loads(self._read_verified(digest))
        files = manifest.get("files", {})
        for name in files:
            if not _safe_name(name):
                raise DepthgaugeError(f"Artifact {digest[:12]} names an unsafe file '{name}'; refusing to load it.")
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for name, file_digest in files.items():
            (dest / name).write_bytes(self._read_verified(file_digest))
        return dest

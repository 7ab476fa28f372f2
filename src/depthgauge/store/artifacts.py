"""Content-addressed artifact store: every file is kept under its SHA-256 and verified on load.

A model artifact is a folder of plain files (JSON, safetensors, LightGBM text). `put_dir`
stores each file by digest plus a JSON manifest naming them; the manifest's digest is the
artifact's address. `get_dir` checks every digest and refuses unsafe names before writing.

Blobs live in a folder of the workspace by default, or in an S3-compatible bucket
(`DEPTHGAUGE_ARTIFACTS=s3://bucket/prefix`, through fsspec/s3fs; `DEPTHGAUGE_S3_ENDPOINT` for
MinIO, Ceph or any other S3-compatible server; credentials as AWS's tools read them). Both are
addressed and verified the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from depthgauge.errors import DepthgaugeError


def _safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and "\x00" not in name


def _key(digest: str) -> str:
    return f"sha256/{digest[:2]}/{digest}"


class LocalBlobs:
    """Blobs as files under a folder, written atomically (temporary file, then rename)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.where = str(self.root)

    def path(self, digest: str) -> Path:
        return self.root / _key(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def write(self, digest: str, data: bytes) -> None:
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, digest: str) -> bytes | None:
        path = self.path(digest)
        return path.read_bytes() if path.exists() else None

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size


class S3Blobs:
    """Blobs as objects under s3://bucket/prefix (an S3 PUT is atomic, so no temporary object is needed)."""

    def __init__(self, url: str, endpoint: str | None = None):
        try:
            import s3fs
        except ImportError:
            raise DepthgaugeError("DEPTHGAUGE_ARTIFACTS points at S3, which needs s3fs: pip install 'depthgauge[s3]'.") from None
        self.where = url.rstrip("/")
        self.base = self.where[len("s3://"):]
        if not self.base or self.base.startswith("/"):
            raise DepthgaugeError(f"'{url}' is not an S3 location. Use s3://BUCKET or s3://BUCKET/PREFIX.")
        self.fs = s3fs.S3FileSystem(endpoint_url=endpoint, use_listings_cache=False) if endpoint else \
            s3fs.S3FileSystem(use_listings_cache=False)

    def _path(self, digest: str) -> str:
        return f"{self.base}/{_key(digest)}"

    def exists(self, digest: str) -> bool:
        return self.fs.exists(self._path(digest))

    def write(self, digest: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(digest), data)

    def read(self, digest: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._path(digest))
        except FileNotFoundError:
            return None

    def size(self, digest: str) -> int:
        return int(self.fs.size(self._path(digest)))


def blobs_for(location: str | Path) -> LocalBlobs | S3Blobs:
    """Return the blob backend for a folder or an s3:// URL."""
    if str(location).startswith("s3://"):
        return S3Blobs(str(location), os.environ.get("DEPTHGAUGE_S3_ENDPOINT"))
    return LocalBlobs(Path(location))


class ArtifactStore:
    def __init__(self, location: str | Path):
        self.blobs = blobs_for(location)

    @property
    def root(self) -> str:
        return self.blobs.where

    def _put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if not self.blobs.exists(digest):
            self.blobs.write(digest, data)
        return digest

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
        data = self.blobs.read(digest)
        if data is None:
            raise DepthgaugeError(f"Artifact blob {digest[:12]} is missing from {self.root}; the workspace is incomplete.")
        if hashlib.sha256(data).hexdigest() != digest:
            raise DepthgaugeError(
                f"Artifact blob {digest[:12]} does not match its SHA-256: the file was changed or corrupted. "
                "Refusing to load it; re-run the assessment to rebuild the artifact."
            )
        return data

    def size_bytes(self, digest: str) -> int:
        manifest = json.loads(self._read_verified(digest))
        return sum(self.blobs.size(d) for d in manifest["files"].values())

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
            # Atomic per file: another process loading the same artifact into the same folder never reads half a file.
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(self._read_verified(file_digest))
                os.replace(tmp, dest / name)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return dest

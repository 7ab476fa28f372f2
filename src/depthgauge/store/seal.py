"""Where the audit log's secrets and anchor live, outside the database: `audit.key` (the HMAC secrets, each with the
first event it seals; mode 0600) and `audit.head` (each committed event's number and hash, appended). The chain itself
is `govern/audit.py`; this module is below the workspace, which attaches a seal to its engine when it opens."""

from __future__ import annotations

import json
import os
import secrets
import weakref
from pathlib import Path

from sqlalchemy.orm import Session

from depthgauge.store.tables import AuditHeadRow

KEY_FILE, HEAD_FILE = "audit.key", "audit.head"


class Seal:
    """The workspace's audit secrets (`audit.key`: each with the first event it seals) and its head anchor file."""

    def __init__(self, home: Path):
        self.key_path, self.head_path = Path(home) / KEY_FILE, Path(home) / HEAD_FILE
        self._keys: list[tuple[int, bytes]] = []
        self._read_at: float | None = None

    def keys(self) -> list[tuple[int, bytes]]:
        """(first event sealed, secret), oldest first; re-read when the file changes (a rotation elsewhere)."""
        changed = self.key_path.stat().st_mtime_ns
        if changed != self._read_at:
            self._keys = [(int(k["from_seq"]), bytes.fromhex(k["key"])) for k in json.loads(self.key_path.read_text())]
            self._read_at = changed
        return self._keys

    def key_for(self, seq: int) -> bytes | None:
        """The secret that seals event `seq`, or None for an event written before the workspace had one."""
        found = None
        for first, key in self.keys():
            if first <= seq:
                found = key
        return found

    def create(self, next_seq: int) -> None:
        """Make the first secret (owner-readable only), sealing events from `next_seq` on; another process may
        have made it first, and then theirs is kept."""
        if self.key_path.exists():
            return
        _write_keys(self.key_path, [{"from_seq": next_seq, "key": secrets.token_hex(32)}], exclusive=True)

    def rotate(self, next_seq: int) -> None:
        entries = json.loads(self.key_path.read_text())
        _write_keys(self.key_path, [*entries, {"from_seq": next_seq, "key": secrets.token_hex(32)}])

    def anchor(self, heads: list[tuple[int, str]]) -> None:
        """Append committed events' numbers and hashes to the head file (one short write, atomic with O_APPEND)."""
        descriptor = os.open(self.head_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, "".join(f"{seq} {digest}\n" for seq, digest in heads).encode())
        finally:
            os.close(descriptor)

    def anchored(self) -> dict[int, str]:
        """Every event number the head file holds, with its hash (a torn last line is ignored)."""
        if not self.head_path.exists():
            return {}
        found = {}
        for line in self.head_path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit() and len(parts[1]) == 64:
                found[int(parts[0])] = parts[1]
        return found


def _write_keys(path: Path, entries: list[dict], exclusive: bool = False) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(entries, handle)
    try:
        if exclusive:
            try:
                os.link(temporary, path)  # fails when another process made it first: theirs is kept
            except FileExistsError:
                pass
        else:
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


_SEALS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> its workspace's Seal


def attach_seal(engine, home: Path) -> None:
    """Seal the audit log of the workspace whose database is `engine` with the secrets and anchor in `home`,
    making the first secret when there is none."""
    seal = Seal(home)
    if not seal.key_path.exists():
        with Session(engine) as session:
            head = session.get(AuditHeadRow, 1)
        seal.create((head.seq if head is not None else 0) + 1)
    _SEALS[engine] = seal


def seal_of(session: Session) -> Seal | None:
    return _SEALS.get(session.get_bind())

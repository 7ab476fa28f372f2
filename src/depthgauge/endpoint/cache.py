"""The response cache: a vendor's answer stored by request hash as soon as it arrives, so a resumed run never pays twice.

Only answers (HTTP 2xx with JSON) are stored; failed calls are tried again on the next run.
"""

from __future__ import annotations

from sqlalchemy import select

from depthgauge.store.tables import EndpointResponseRow

_CHUNK = 500


class ResponseCache:
    def __init__(self, workspace, endpoint: str):
        self.workspace, self.endpoint = workspace, endpoint

    def get_many(self, hashes: list[str]) -> dict[str, EndpointResponseRow]:
        found: dict[str, EndpointResponseRow] = {}
        with self.workspace.session() as session:
            for start in range(0, len(hashes), _CHUNK):
                chunk = hashes[start:start + _CHUNK]
                rows = session.scalars(select(EndpointResponseRow).where(EndpointResponseRow.request_hash.in_(chunk)))
                found.update({row.request_hash: row for row in rows})
            session.expunge_all()
        return found

    def put_many(self, entries: list[tuple[str, object, float, int]]) -> None:
        """Store (hash, response, latency_ms, attempts) entries in one transaction; hashes already there are kept."""
        if not entries:
            return
        with self.workspace.transaction() as session:
            known = set(session.scalars(select(EndpointResponseRow.request_hash).where(
                EndpointResponseRow.request_hash.in_([e[0] for e in entries]))))
            for request_hash, response, latency_ms, attempts in entries:
                if request_hash not in known:
                    known.add(request_hash)
                    session.add(EndpointResponseRow(request_hash=request_hash, endpoint=self.endpoint, response=response,
                                                    latency_ms=latency_ms, attempts=attempts))

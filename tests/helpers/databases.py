"""A PostgreSQL cluster of the tests' own, started once per session."""

from __future__ import annotations

_CLUSTER = {}


def postgres_cluster():
    """Return the test run's throwaway PostgreSQL cluster, started on first use and stopped at exit."""
    if "cluster" not in _CLUSTER:
        import atexit

        from tests.postgres import PostgresCluster

        _CLUSTER["cluster"] = PostgresCluster().start()
        atexit.register(_CLUSTER["cluster"].stop)
    return _CLUSTER["cluster"]

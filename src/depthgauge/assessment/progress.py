"""What an assessment tells about its progress. Kept free of heavy imports: the CLI loads it before anything runs."""

from __future__ import annotations


class Reporter:
    """Receives progress; the CLI renders it with rich. The default says nothing."""

    def stage(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...  # a data warning, told before any training starts
    def candidate_started(self, name: str, budget_s: float) -> None: ...
    def candidate_finished(self, result) -> None: ...

"""The labelled groundedness cases."""

from __future__ import annotations

from pathlib import Path

CASES = Path(__file__).parent / "grounding_cases.jsonl"

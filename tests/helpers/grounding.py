"""The labelled groundedness cases."""

from __future__ import annotations

from pathlib import Path

CASES = Path(__file__).parents[1] / "genai" / "grounding_cases.jsonl"

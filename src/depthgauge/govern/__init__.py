"""Governance: the implementation checklist and the vendor scorecard."""

"""Load, profile and split tabular data."""

"""The model registry: names, numbered versions, aliases, approvals, lineage, model cards."""

"""Serving: the prediction API, its durable log, human review and feedback."""

"""Generative features: groundedness and hallucination rate of generated answers, with human review."""

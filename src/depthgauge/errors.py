"""The one exception type for user mistakes."""


class DepthgaugeError(Exception):
    """A mistake the user can fix: the message says what was wrong, where, and how to fix it.

    The CLI prints it without a traceback and exits with code 2.
    """


class NotFittedError(DepthgaugeError):
    """A model was asked to predict or save before `fit` was called."""

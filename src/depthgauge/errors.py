"""The one exception type for user mistakes."""


class DepthgaugeError(Exception):
    """A mistake the user can fix: the message says what was wrong, where, and how to fix it.

    The CLI prints it without a traceback and exits with code 2.
    """


class NotFittedError(DepthgaugeError):
    """A model was asked to predict or save before `fit` was called."""


class NotFound(DepthgaugeError):
    """What was asked for does not exist (no such model, version, review, key or assessment): HTTP 404."""


class Conflict(DepthgaugeError):
    """The request conflicts with the workspace's state (a review already decided): HTTP 409."""


class InvalidField(DepthgaugeError):
    """One field of a request is wrong: HTTP 422, naming the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field

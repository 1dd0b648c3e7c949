"""Cancellation signal raised inside sync run methods."""


class CancelationException(BaseException):
    """Raised in a running sync prediction when it is canceled; a BaseException so `except Exception` misses it."""

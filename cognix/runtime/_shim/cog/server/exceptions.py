"""`cog.server.exceptions` (cog 0.8 to 0.16). CancelationException is `cog.CancelationException` (a BaseException,
as in 0.23): a model catching it from here catches what the runtime raises when a prediction is canceled."""

from cog._cancel import CancelationException


class FatalWorkerException(Exception):
    pass


class InvalidStateException(Exception):
    pass


__all__ = ["CancelationException", "FatalWorkerException", "InvalidStateException"]

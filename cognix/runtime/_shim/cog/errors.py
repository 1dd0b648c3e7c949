"""Errors from cog's public surface."""


class CogError(Exception):
    """Base class for Cog errors."""


class ConfigDoesNotExist(CogError):
    """No cog.yaml found."""


class PredictorNotSet(CogError):
    """cog.yaml has no `predict` (or `train`) entry."""

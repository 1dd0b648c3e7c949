"""Marker for `typing.Annotated[T, Opaque]`: the input is passed through untouched (schema: object)."""


class Opaque:
    """Annotation marker; never instantiated."""

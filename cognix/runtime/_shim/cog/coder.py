"""Custom type encoders: subclasses are registered (also with Coder.register) and asked for types they know."""

from typing import Any, ClassVar, List, Optional, Type


class Coder:
    _coders: ClassVar[List[Type["Coder"]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Coder.register(cls)

    @staticmethod
    def register(coder: Type["Coder"]) -> None:
        """Make `coder` available to lookup() (subclasses are registered when they are defined, too)."""
        if coder not in Coder._coders:
            Coder._coders.append(coder)

    @staticmethod
    def lookup(tpe: Any) -> Optional["Coder"]:
        """An instance of the first registered coder whose factory accepts `tpe`, or None."""
        for cls in Coder._coders:
            if cls.factory is not Coder.factory:
                coder = cls.factory(tpe)
                if coder is not None:
                    return coder
        return None

    @staticmethod
    def factory(tpe: Any) -> Optional["Coder"]:
        """Subclasses: an instance for the types they handle, else None. On Coder itself: lookup(tpe)."""
        return Coder.lookup(tpe)

    def encode(self, x: Any) -> dict:
        raise NotImplementedError

    def decode(self, x: dict) -> Any:
        raise NotImplementedError

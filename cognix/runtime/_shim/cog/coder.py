"""Custom type encoders: subclasses are registered and asked for types they know."""

from typing import Any, ClassVar, List, Optional, Type


class Coder:
    _coders: ClassVar[List[Type["Coder"]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Coder._coders.append(cls)

    @staticmethod
    def factory(tpe: Any) -> Optional["Coder"]:
        """Return an instance of the first registered coder whose factory accepts `tpe`."""
        for cls in Coder._coders:
            if cls.factory is not Coder.factory:
                coder = cls.factory(tpe)
                if coder is not None:
                    return coder
        return None

    def encode(self, x: Any) -> dict:
        raise NotImplementedError

    def decode(self, x: dict) -> Any:
        raise NotImplementedError

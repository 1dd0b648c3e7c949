"""The one error family users see: what went wrong, where, and how to fix it."""

from __future__ import annotations


class CognixError(Exception):
    """A user-facing error: printed by the CLI without a traceback, exit status 1."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ConfigError(CognixError):
    """cog.yaml (or a file it names) is invalid; may carry several located problems."""

    def __init__(self, problems: list[str], *, fix: str | None = None) -> None:
        self.problems = problems
        super().__init__("\n".join(problems), fix=fix)


class LockError(CognixError):
    """Locking failed, or a lock is missing, malformed or stale."""


class StoreError(CognixError):
    """An artifact could not be fetched, verified or unpacked."""


class ImageError(CognixError):
    """The image could not be written, loaded or pushed."""


class WeightsError(CognixError):
    """Weights could not be hashed, pushed or pulled."""

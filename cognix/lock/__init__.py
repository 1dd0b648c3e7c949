"""cognix.lock: pin every input of an image (wheels, debs, weights, runtime) in lock.json."""

from cognix.lock.lockfile import (
    LOCK_FILE,
    load_lock,
    lock_bytes,
    lock_model,
    read_lock,
    staleness,
    write_lock,
)
from cognix.lock.model import Lock

__all__ = ["LOCK_FILE", "Lock", "load_lock", "lock_bytes", "lock_model", "read_lock", "staleness", "write_lock"]

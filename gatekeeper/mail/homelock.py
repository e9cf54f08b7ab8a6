"""One daemon per home, and one writer of its brains' checkpoints at a time.

The daemon holds the home's lock for as long as it runs; a command that learns
something (review, undo, train) takes it only to write a checkpoint, and when a daemon
holds it leaves the learning to the daemon. Whoever holds it writes who they are into
the lock file, so `gatekeeper status` and a second `gatekeeper run` can say so.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

DAEMON = "daemon"  # the role of `gatekeeper run`


@dataclass(frozen=True)
class Holder:
    """The process that holds a home's lock."""

    pid: int
    role: str  # DAEMON, or the command that holds it
    since: float


class HomeLock:
    """An advisory lock on one file (flock: the system lets go of it when the process
    dies, however it dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, role: str) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        if self._handle is not None:
            return True
        handle = self._open()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "role": role, "since": time.time()}))
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the last descriptor releases the flock
            self._handle = None

    def holder(self) -> Holder | None:
        """Who holds the lock now (this process included), None when nobody does."""
        if self._handle is not None:
            return self._read(self._handle)
        try:  # reading only: status works on a home it cannot write
            handle = os.fdopen(os.open(self.path, os.O_RDONLY), "r")
        except FileNotFoundError:
            return None  # no process ever held it
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._read(handle)
        finally:
            handle.close()
        return None

    def _open(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+")

    @staticmethod
    def _read(handle) -> Holder:
        handle.seek(0)
        try:
            data = json.loads(handle.read() or "{}")
            return Holder(int(data["pid"]), str(data["role"]), float(data["since"]))
        except (ValueError, KeyError, TypeError):  # caught between truncate and write
            return Holder(0, "unknown", 0.0)

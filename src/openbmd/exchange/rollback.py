"""The last signed checkpoint, kept outside the database: a restored older database is refused.

A database restored from an older backup is shorter than the tree the centre has already
signed. If the centre started on it, it would re-sign a shorter tree and hand out the same
indices again for different messages — a fork that partners holding the newer checkpoint see
as a lie. So each time the centre signs a checkpoint of a larger tree it first records
``<size> <root base64>`` in a small file next to its key (``<key file>.checkpoint``, fsync'ed,
atomic rename, mode 0600), and it refuses to start when the database's tree does not extend
that checkpoint (smaller, or a different root at that size).
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from pathlib import Path

from openbmd.errors import InputError
from openbmd.exchange import merkle

__all__ = ["CheckpointGuard", "guard_file"]


def guard_file(key_path: Path) -> Path:
    """Where the last signed checkpoint of the centre whose key is *key_path* is recorded."""
    return key_path.with_name(key_path.name + ".checkpoint")


class CheckpointGuard:
    """The record of the largest tree signed so far.

    Parameters
    ----------
    path : Path
        The record file (see :func:`guard_file`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.size, self.root = self._read()

    def _read(self) -> tuple[int, bytes | None]:
        try:
            text = self.path.read_text("ascii").split()
        except FileNotFoundError:
            return 0, None
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.path}: unreadable checkpoint record: {exc}") from None
        try:
            size, root = int(text[0]), base64.b64decode(text[1], validate=True)
        except (IndexError, ValueError):
            raise InputError(f"{self.path}: malformed checkpoint record") from None
        return size, root

    def check(self, size: int, nodes: merkle.NodeReader) -> None:
        """Refuse (``InputError``, one line) a database whose tree of *size* leaves does not
        extend the recorded checkpoint."""
        if self.root is None:
            return
        if size < self.size:
            raise InputError(
                f"refusing to start: the database holds {size} log entries but the centre has "
                f"already signed a checkpoint of {self.size} ({self.path}); it was restored from "
                "an older backup — restore a newer one (or retire this log)"
            )
        if merkle.root_hash(self.size, nodes) != self.root:
            raise InputError(
                f"refusing to start: the database's first {self.size} log entries differ from "
                f"the checkpoint the centre signed ({self.path}); the database was altered"
            )

    def record(self, size: int, root: bytes) -> None:
        """Persist ``(size, root)`` before a checkpoint of it is released (if it is larger)."""
        with self._lock:
            if size <= self.size and self.root is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_name(f"{self.path.name}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(f"{size} {base64.b64encode(root).decode('ascii')}\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            self.size, self.root = size, root

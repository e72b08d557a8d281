"""The exclusive lock a render or an export holds on its output folder for its whole run (flock on a lock file)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from textsynth.errors import TextsynthError

LOCK_NAME = ".textsynth.lock"


def _holder(fd: int) -> str:
    """The pid the lock file names (the process holding it), or a note that it names none yet."""
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        if text.isdigit():
            return f"pid {text}"
    return "pid unknown"


@contextlib.contextmanager
def folder_lock(folder: Path, what: str, shown: Path | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on `folder` (created when missing) while the block runs; yields whether the folder
    was created here. A folder another process holds is a one-line error naming it and that process's pid;
    nothing is written then. The kernel drops the lock when the holder dies, so a crashed run never blocks the
    next one. On exit the lock file goes, and so does a folder created here that is left empty. Messages name
    `shown` (default: `folder`), the folder the user asked for."""
    shown = folder if shown is None else shown
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TextsynthError(f"cannot create output folder {shown}: {exc.strerror or exc}") from None
    path = folder / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise TextsynthError(f"cannot lock output folder {shown}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise TextsynthError(f"{shown} is in use by another textsynth {what} ({holder}); wait for it to "
                                     "finish, or stop it, then run this again") from None
            raise TextsynthError(f"cannot lock output folder {shown}: {exc.strerror or exc}") from None
        # The holder before us may have removed the file between our open and our lock: then we hold a lock on a
        # name nobody else sees, so start over on the file that is there now.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield created
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still held: a waiting process then finds the name gone and starts over
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when the run left the folder empty

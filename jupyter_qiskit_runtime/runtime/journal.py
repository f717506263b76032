"""Choosing the job database's journal mode: WAL on a local disk, DELETE on a network one.

SQLite's write-ahead log (WAL) makes a commit one append and one ``fsync`` of the log, and lets
commits that need not survive a power cut skip the ``fsync``; but WAL keeps its index in shared
memory beside the database, which network file systems do not provide safely to several hosts
(NFS, SMB/CIFS, sshfs, cluster file systems). There the rollback journal (``DELETE``) is the safe
choice. ``AUTO`` (the default) picks WAL unless the database's directory is on such a file system.
"""

from __future__ import annotations

import os
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

#: The journal modes a store may be given; ``AUTO`` chooses between WAL and DELETE.
AUTO = "AUTO"

#: File system types (as ``/proc/mounts`` names them) on which WAL is not safe: network and
#: cluster file systems, and FUSE file systems that reach a remote host.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smbfs", "smb3", "ncpfs", "afs", "9p", "ceph", "glusterfs",
        "lustre", "gpfs", "beegfs", "orangefs", "ocfs2", "gfs2", "panfs", "davfs", "fuse.sshfs",
        "fuse.glusterfs", "fuse.cephfs", "fuse.s3fs", "fuse.gcsfuse", "fuse.rclone",
        "fuse.davfs2", "fuse.juicefs", "fuse.lizardfs", "fuse.moosefs",
    }
)  # fmt: skip

#: ``statfs`` magic numbers of network file systems, for systems without ``/proc/mounts``.
_NETWORK_MAGIC = {
    0x6969: "nfs",
    0xFF534D42: "cifs",
    0x517B: "smbfs",
    0xFE534D42: "smb3",
    0x0BD00BD0: "lustre",
    0x47504653: "gpfs",
    0x00C36400: "ceph",
}


@dataclass(frozen=True)
class JournalChoice:
    """The journal mode a store uses, and why, in words for the server's log."""

    mode: str
    reason: str


def _unescape(field: str) -> str:
    """A path field of ``/proc/mounts``, whose spaces and such are octal escapes (``\\040``)."""
    return field.encode("latin-1").decode("unicode_escape")


def filesystem_type(path: str | Path, mounts: str = "/proc/mounts") -> str | None:
    """The type of the file system that holds ``path`` (its nearest existing ancestor), as
    ``/proc/mounts`` names it (``ext4``, ``nfs4``, ``fuse.sshfs``); ``None`` if unknown."""
    here = Path(path).expanduser().absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    target = os.path.realpath(here)
    try:
        with open(mounts, encoding="utf-8", errors="replace") as lines:
            table = [line.split() for line in lines]
    except OSError:
        return None
    best: tuple[int, str] | None = None
    for fields in table:
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        # The last of equally long mount points wins: it was mounted over the others.
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fields[2])
    return None if best is None else best[1]


def _statfs_network_type(path: str | Path) -> str | None:
    """A network file system's name from ``statfs``'s magic number, where ctypes can ask."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        buffer = ctypes.create_string_buffer(256)
        if libc.statfs(os.fsencode(str(path)), buffer) != 0:
            return None
        magic = int.from_bytes(buffer.raw[:8], "little") & 0xFFFFFFFF
    except (OSError, AttributeError, TypeError):
        return None
    return _NETWORK_MAGIC.get(magic)


def network_filesystem(path: str | Path) -> str | None:
    """The name of the network file system that holds ``path``; ``None`` if it is local (or
    cannot be told)."""
    kind = filesystem_type(path)
    if kind is not None:
        return kind if kind in NETWORK_FILESYSTEMS else None
    here = Path(path).absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return _statfs_network_type(here)


def choose_journal_mode(path: str, requested: str) -> JournalChoice:
    """The journal mode for a database at ``path``: ``requested``, or for ``AUTO`` WAL on a
    local file system and DELETE on a network one."""
    requested = requested.upper()
    if requested != AUTO:
        return JournalChoice(requested, "as configured (QiskitRuntimeApp.journal_mode)")
    if path == ":memory:":
        return JournalChoice("DELETE", "an in-memory database")
    remote = network_filesystem(Path(path).parent)
    if remote is not None:
        return JournalChoice(
            "DELETE", f"the database is on a network file system ({remote}), where WAL is unsafe"
        )
    return JournalChoice("WAL", "the database is on a local file system")


class WalFlusher:
    """Makes committed WAL frames durable off the writing thread: ``request`` asks for an
    ``fsync`` of the write-ahead log; one ``fsync`` serves every request made before it began."""

    def __init__(self, wal_path: str) -> None:
        self._path = wal_path
        self._wanted = threading.Condition()
        self._pending = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Ask for the commits made so far to become durable soon."""
        with self._wanted:
            if self._closed:
                return
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="qiskit-runtime-wal-flush", daemon=True
                )
                self._thread.start()
            self._wanted.notify()

    def _run(self) -> None:
        while True:
            with self._wanted:
                while not self._pending and not self._closed:
                    self._wanted.wait()
                if not self._pending:
                    return
                self._pending = False
            self._fsync()

    def _fsync(self) -> None:
        with suppress(OSError):  # no log (a checkpoint emptied it): nothing to flush
            fd = os.open(self._path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def close(self) -> None:
        """Flush what was asked for, and stop the thread."""
        with self._wanted:
            self._closed = True
            thread = self._thread
            self._wanted.notify()
        if thread is not None:
            thread.join(timeout=10)

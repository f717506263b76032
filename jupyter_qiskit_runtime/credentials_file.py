"""The file that gives a server's own kernels a runtime API key, so ``connect()`` needs no token.

A server whose only credential is a password has no token a kernel could find. So that its kernels
can still connect with no arguments, the extension writes ``jupyter_qiskit_runtime-<pid>.json``
into Jupyter's runtime directory (beside ``jpserver-<pid>.json``, which holds the server's token
when it has one) when it starts, and removes it when it stops. The file holds the server's URL,
its pid, the owner and a runtime API key for that owner: a credential that grants this API and
nothing else of the Jupyter server. It is created readable and writable by the server's user
only (mode 0600, from the start: there is no moment when another user could open it), in a
directory Jupyter creates private (0700) too. Anyone who can read it can already read the files
beside it, the server's token and its cookie secret (which signs login cookies), so it is no
weaker than Jupyter's own authentication.

This module is the file's one home: the server writes and removes it (``app.py``), the kernel
side reads it (``kernel/discovery.py``). It imports neither side.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from contextlib import suppress
from pathlib import Path
from typing import Any

_NAME = re.compile(r"jupyter_qiskit_runtime-(\d+)\.json")


def credentials_file_name(pid: int) -> str:
    """The name, in Jupyter's runtime directory, of the file a server writes for its kernels."""
    return f"jupyter_qiskit_runtime-{pid}.json"


def read_credentials_file(runtime_dir: str, pid: int) -> dict[str, Any] | None:
    """The content of the file the server with ``pid`` wrote for its kernels, if it is readable
    and holds a runtime API key for that server."""
    path = Path(runtime_dir) / credentials_file_name(pid)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("pid") != pid or not data.get("apikey"):
        return None
    return data


def write_credentials_file(runtime_dir: str, content: dict[str, Any]) -> Path:
    """Write ``content`` (with its ``pid``) as this server's credentials file, mode 0600.

    The file is created afresh under a temporary name with ``O_EXCL`` and mode 0600 (never
    following a link, never reusing a file someone else made), then renamed into place, so a
    reader sees either the old file or the complete new one.
    """
    directory = Path(runtime_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / credentials_file_name(int(content["pid"]))
    temporary = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(content, f)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink()
        raise
    return path


def remove_credentials_file(path: Path) -> None:
    """Remove a credentials file; one already gone is fine."""
    with suppress(FileNotFoundError):
        path.unlink()


def remove_stale_credentials_files(runtime_dir: str) -> None:
    """Remove the credentials files of servers that are no longer running (killed, crashed)."""
    import psutil

    with suppress(OSError):
        for entry in os.scandir(runtime_dir):
            match = _NAME.fullmatch(entry.name)
            if match and not psutil.pid_exists(int(match.group(1))):
                remove_credentials_file(Path(entry.path))

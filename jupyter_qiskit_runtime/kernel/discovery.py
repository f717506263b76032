"""Finding the Jupyter server that runs this kernel, and a credential it accepts.

``connect()`` with no URL and token asks :func:`discover_server`, which tries in order:

1. ``QISKIT_RUNTIME_JUPYTER_URL`` and ``QISKIT_RUNTIME_JUPYTER_TOKEN``: an explicit server, such as
   a shared one elsewhere, with a token it accepts;
2. JupyterHub: a single-user server gives its kernels ``JUPYTERHUB_API_TOKEN`` (accepted by that
   server as ``Authorization: token ...``) and its URL as ``JUPYTERHUB_SERVICE_URL``, or only its
   base URL as ``JUPYTERHUB_SERVICE_PREFIX`` (then the running server with that base URL); not when
   another running server with another base URL started this process (``jupyter lab`` run in a
   terminal of the single-user server passes the Hub's variables on to its kernels);
3. the running local servers (``jupyter_server.serverapp.list_running_servers()``): the one that
   started this kernel (``JPY_PARENT_PID`` or an ancestor process), else the only one running.
   Its credential is the runtime API key in the file the extension writes for its kernels
   (:func:`credentials_file_name`, readable by the server's user only), else the server's token.

This module never imports the server side: it reads files and environment variables only (the
credentials file through ``credentials_file.py``, which imports neither side).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..credentials_file import credentials_file_name, read_credentials_file

#: The Jupyter server's URL, with its base_url, for an explicit server.
ENV_URL = "QISKIT_RUNTIME_JUPYTER_URL"
#: A token that server accepts, for an explicit server.
ENV_TOKEN = "QISKIT_RUNTIME_JUPYTER_TOKEN"

#: The kinds of credential: one Jupyter accepts (traded for an API key), or a runtime API key.
JUPYTER_TOKEN, API_KEY = "jupyter", "apikey"

_WILDCARD_HOSTS = {"0.0.0.0", "::", "*"}


class ServerNotFoundError(ConnectionError):
    """No Jupyter server with a usable credential was found; the message says what was tried."""


@dataclass(frozen=True)
class ServerCredentials:
    """A server's URL (with its base_url) and a credential for it; the credential is never shown.

    ``kind`` is :data:`JUPYTER_TOKEN` for a credential Jupyter accepts, to be traded for a runtime
    API key, or :data:`API_KEY` for a runtime API key already. ``owner`` is the user the key
    belongs to, when known. ``source`` says in words where both were found.
    """

    url: str
    credential: str = field(repr=False)
    kind: str
    source: str
    owner: str | None = None


def normalize_url(url: str) -> str:
    """``url`` with a trailing slash, a lower-case scheme and host, and a wildcard host as
    127.0.0.1 (a server bound to every address is reachable there)."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    if parts.hostname in _WILDCARD_HOSTS:
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def display_url(url: str) -> str:
    """``url`` without a user, password, query or fragment: safe to print."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _matches(wanted: str | None, url: str) -> bool:
    return wanted is None or normalize_url(wanted) == normalize_url(url)


def _from_environment(
    environ: Mapping[str, str], wanted: str | None, tried: list[str]
) -> ServerCredentials | None:
    url, token = environ.get(ENV_URL, "").strip(), environ.get(ENV_TOKEN, "").strip()
    if not url and not token:
        tried.append(f"{ENV_URL} and {ENV_TOKEN}: not set")
        return None
    if not url or not token:
        missing = ENV_URL if not url else ENV_TOKEN
        raise ServerNotFoundError(f"{missing} is not set: set both {ENV_URL} and {ENV_TOKEN}.")
    if not _matches(wanted, url):
        tried.append(f"{ENV_URL}: {display_url(url)}, not the URL asked for")
        return None
    return ServerCredentials(normalize_url(url), token, JUPYTER_TOKEN, f"{ENV_URL}/{ENV_TOKEN}")


def _from_jupyterhub(
    environ: Mapping[str, str],
    servers: list[dict[str, Any]],
    parent: dict[str, Any] | None,
    wanted: str | None,
    tried: list[str],
) -> ServerCredentials | None:
    token = environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    if not token:
        tried.append("JupyterHub: JUPYTERHUB_API_TOKEN not set")
        return None
    url = environ.get("JUPYTERHUB_SERVICE_URL", "").strip()
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    if parent is not None and prefix and parent.get("base_url") != prefix:
        # Say, `jupyter lab` run in a terminal of a single-user server: its kernels inherit the
        # Hub's variables, but belong to that other server.
        tried.append(
            f"JupyterHub: this process was started by another Jupyter server "
            f"({display_url(str(parent.get('url', '?')))}), not the single-user server"
        )
        return None
    if not url and prefix:
        # Older hubs give only the base URL; the single-user server lists itself as running.
        same = [s for s in servers if s.get("base_url") == prefix and s.get("url")]
        url = str(same[0]["url"]) if len(same) == 1 else ""
    if not url:
        tried.append(
            "JupyterHub: JUPYTERHUB_SERVICE_URL not set, and no single running server has "
            f"base_url {prefix!r} (JUPYTERHUB_SERVICE_PREFIX)"
        )
        return None
    if not _matches(wanted, url):
        tried.append(f"JupyterHub: {display_url(url)}, not the URL asked for")
        return None
    return ServerCredentials(normalize_url(url), token, JUPYTER_TOKEN, "JupyterHub's API token")


def _ancestors(environ: Mapping[str, str]) -> list[int]:
    """``JPY_PARENT_PID`` (set by Jupyter when it launches a kernel), then every ancestor."""
    import psutil

    pids: list[int] = []
    parent = environ.get("JPY_PARENT_PID", "")
    if parent.isdigit():
        pids.append(int(parent))
    try:
        pids.extend(p.pid for p in psutil.Process().parents())
    except psutil.Error:
        pids.append(os.getppid())
    return pids


def _parent_server(
    servers: list[dict[str, Any]], environ: Mapping[str, str]
) -> dict[str, Any] | None:
    """The running server that started this process (directly or not), if one did."""
    by_pid = {s.get("pid"): s for s in servers}
    if not by_pid:
        return None
    return next((by_pid[pid] for pid in _ancestors(environ) if pid in by_pid), None)


def _pick_local(
    servers: list[dict[str, Any]], parent: dict[str, Any] | None, wanted: str | None
) -> tuple[dict[str, Any] | None, str]:
    """The server for this kernel, or ``None`` and why not."""
    if wanted is not None:
        same = [s for s in servers if _matches(wanted, str(s.get("url", "")))]
        if same:
            return same[0], ""
        return None, f"none of the {len(servers)} running server(s) has URL {display_url(wanted)}"
    if parent is not None:
        return parent, ""
    if len(servers) == 1:
        return servers[0], ""
    urls = ", ".join(sorted(display_url(str(s.get("url", "?"))) for s in servers))
    return None, (
        f"{len(servers)} servers are running ({urls}) and none of them started this process; "
        "not guessing"
    )


def _from_local_servers(
    servers: list[dict[str, Any]],
    parent: dict[str, Any] | None,
    runtime_dir: str,
    wanted: str | None,
    tried: list[str],
) -> ServerCredentials | None:
    where = f"running Jupyter servers in {runtime_dir}"
    if not servers:
        tried.append(f"{where}: none")
        return None
    info, why = _pick_local(servers, parent, wanted)
    if info is None:
        tried.append(f"{where}: {why}")
        return None
    pid = int(info["pid"])
    if info.get("sock"):
        tried.append(f"{where}: the server with pid {pid} listens on a Unix socket only")
        return None
    url = normalize_url(str(info["url"]))
    secret = read_credentials_file(runtime_dir, pid)
    if secret is not None:
        source = f"{credentials_file_name(pid)} (the server's key for its kernels)"
        owner = str(secret["owner"]) if secret.get("owner") else None
        return ServerCredentials(url, str(secret["apikey"]), API_KEY, source, owner)
    if info.get("token"):
        return ServerCredentials(url, str(info["token"]), JUPYTER_TOKEN, "the server's token")
    tried.append(
        f"{where}: the server at {display_url(url)} (pid {pid}) has no token (password-only) and "
        f"no readable {credentials_file_name(pid)}; is jupyter_qiskit_runtime enabled there?"
    )
    return None


def _running_servers(runtime_dir: str) -> list[dict[str, Any]]:
    from jupyter_server.serverapp import list_running_servers

    return list(list_running_servers(runtime_dir))


def _not_found(tried: Iterable[str]) -> ServerNotFoundError:
    lines = "\n".join(f"  - {line}" for line in tried)
    return ServerNotFoundError(
        "No Jupyter server with the Qiskit Runtime API was found. Tried:\n"
        f"{lines}\n"
        "Pass the server's URL (with its base_url) and a token it accepts: "
        "connect(url, token), or %qiskit_runtime --url URL --token TOKEN, "
        f"or set {ENV_URL} and {ENV_TOKEN}."
    )


def discover_server(
    url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    runtime_dir: str | None = None,
) -> ServerCredentials:
    """The Jupyter server this kernel belongs to, and a credential it accepts.

    Args:
        url: Only consider a server at this URL (with its base_url).
        environ: The environment to read (``os.environ`` by default).
        runtime_dir: Jupyter's runtime directory (``jupyter_runtime_dir()`` by default).

    Raises:
        ServerNotFoundError: Nothing usable was found; the message lists what was tried.
    """
    from jupyter_core.paths import jupyter_runtime_dir

    environ = os.environ if environ is None else environ
    runtime_dir = runtime_dir or jupyter_runtime_dir()
    tried: list[str] = []
    found = _from_environment(environ, url, tried)
    if found is not None:
        return found
    servers = _running_servers(runtime_dir)
    parent = _parent_server(servers, environ)
    found = _from_jupyterhub(environ, servers, parent, url, tried) or _from_local_servers(
        servers, parent, runtime_dir, url, tried
    )
    if found is None:
        raise _not_found(tried)
    return found

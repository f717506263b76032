"""``connect()``: a genuine ``QiskitRuntimeService`` talking to a Jupyter server's runtime API.

The Jupyter token is used once, to get a runtime API key from the server; the client only ever
holds that key, which grants the runtime API and nothing else of the Jupyter server. (The client
may send its key elsewhere: a deep copy of a backend builds a new authenticator that asks IBM
Cloud's IAM host, as the environment says after ``connect()`` returns.)

Nothing in qiskit-ibm-runtime is patched: the service is built with public arguments
(``url_resolver``), and the two switches the client reads from the environment while it is
constructed are set only for that moment, under a lock, and restored:

- ``IAM_URL`` points the client's token exchange at this server's IAM-compatible endpoint, which
  trades the Jupyter token for a short-lived bearer token;
- ``QISKIT_FUNCTIONS_EXPERIMENTAL=1`` makes the client use the given instance instead of searching
  IBM Cloud for instances.

Both are read only during construction (the token manager keeps its URL), so a real IBM account
made in the same process afterwards behaves exactly as it would without us.

Without a URL and token, ``connect()`` finds the server that runs this kernel and a credential it
accepts (``discovery.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from .discovery import (
    API_KEY,
    JUPYTER_TOKEN,
    ServerCredentials,
    discover_server,
    display_url,
    normalize_url,
)

if TYPE_CHECKING:
    from qiskit_ibm_runtime import QiskitRuntimeService

#: The instance CRN a local server answers to (the client requires one in CRN form).
LOCAL_INSTANCE = "crn:v1:jupyter:public:quantum-computing:local:a/jupyter-qiskit-runtime::"

_ENVIRON_LOCK = threading.Lock()


def api_urls(server_url: str) -> tuple[str, str]:
    """The runtime API base and the IAM endpoint base for a Jupyter server URL (with base_url)."""
    base = server_url if server_url.endswith("/") else server_url + "/"
    return urljoin(base, "qiskit-runtime/v1"), urljoin(base, "qiskit-runtime/iam")


def resolve_url(url: str, instance: str | None, private_endpoint: bool | None, channel: str) -> str:
    """A ``url_resolver`` that uses the given URL as it is (IBM's default rewrites it)."""
    return url


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    with _ENVIRON_LOCK:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class ConnectionRefused(RuntimeError):
    """The server could not be reached, or did not accept the credential."""


def _issue_api_key(url: str, token: str, verify: bool = True) -> dict[str, Any]:
    """``POST /iam/apikeys`` with a Jupyter credential: ``{"apikey", "owner"}``."""
    import requests

    _, iam_url = api_urls(url)
    where = display_url(url)
    try:
        response = requests.post(
            f"{iam_url}/apikeys",
            headers={"Authorization": f"token {token}"},
            timeout=30,
            verify=verify,
        )
    except requests.RequestException as exc:
        raise ConnectionRefused(f"Could not reach the Jupyter server at {where}: {exc}") from exc
    if response.status_code in (401, 403):
        raise ConnectionRefused(f"The Jupyter server at {where} did not accept the token.")
    if response.status_code == 404:
        raise ConnectionRefused(
            f"The Jupyter server at {where} has no Qiskit Runtime API: is jupyter_qiskit_runtime "
            "installed and enabled there?"
        )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def request_api_key(url: str, token: str, verify: bool = True) -> str:
    """Trade a Jupyter credential for a runtime API key at the server at ``url``."""
    return str(_issue_api_key(url, token, verify)["apikey"])


@dataclass(frozen=True)
class Connection:
    """A connected service and what it is connected to; the API key is never shown."""

    service: QiskitRuntimeService
    #: The Jupyter server's URL, with its base_url.
    url: str
    #: The user the service's jobs belong to, when the server said.
    owner: str | None
    #: Where the URL and credential came from, in words.
    source: str
    #: The runtime API key the service holds.
    api_key: str = field(repr=False)


def open_connection(
    url: str | None = None, token: str | None = None, **service_kwargs: Any
) -> Connection:
    """Like :func:`connect`, and say what it connected to (for ``%qiskit_runtime``)."""
    from .jupyter_service import JupyterRuntimeService  # its jobs wait on the server

    if token is not None and url is None:
        raise ValueError("A token without a URL: pass the server's URL too, or neither.")
    if url is not None and token is not None:
        found = ServerCredentials(normalize_url(url), token, JUPYTER_TOKEN, "the given token")
    else:
        found = discover_server(url)
    verify = service_kwargs.get("verify", True) is not False
    if found.kind == API_KEY:
        api_key, owner = found.credential, found.owner
    else:
        answer = _issue_api_key(found.url, found.credential, verify=verify)
        api_key, owner = str(answer["apikey"]), answer.get("owner")
    api_url, iam_url = api_urls(found.url)
    with _environment(IAM_URL=iam_url, QISKIT_FUNCTIONS_EXPERIMENTAL="1"):
        service = JupyterRuntimeService(
            channel="ibm_quantum_platform",
            token=api_key,
            url=api_url,
            instance=LOCAL_INSTANCE,
            url_resolver=resolve_url,
            **service_kwargs,
        )
    return Connection(service, found.url, owner, found.source, api_key)


def connect(
    url: str | None = None, token: str | None = None, **service_kwargs: Any
) -> QiskitRuntimeService:
    """A ``QiskitRuntimeService`` for the runtime API of a Jupyter server.

    With no ``url`` and ``token``, it finds the server that runs this kernel and a credential
    it accepts: ``QISKIT_RUNTIME_JUPYTER_URL`` and ``QISKIT_RUNTIME_JUPYTER_TOKEN`` if set, else
    JupyterHub's single-user server, else the local server that started the kernel
    (docs/connecting.md). With only ``url``, it looks for a credential for that server the same way.

    Args:
        url: The Jupyter server's URL, including its base_url (``http://127.0.0.1:8888/``).
        token: A credential that server accepts (its Jupyter token, or a JupyterHub API token).
            It is sent once, to that server, for a runtime API key; the service holds the key.
        service_kwargs: Further arguments for ``QiskitRuntimeService`` (``verify``, ``proxies``).

    Raises:
        ServerNotFoundError: Without ``url`` and ``token``, no server was found; the message
            says what was tried.
        ConnectionRefused: The server could not be reached or refused the credential.
    """
    return open_connection(url, token, **service_kwargs).service


@dataclass(frozen=True)
class ServerSummary:
    """What the server's root endpoint and backend listing say about it."""

    version: str
    programs: tuple[str, ...]
    executors: tuple[str, ...]
    backends: int


def server_summary(url: str, api_key: str, verify: bool = True) -> ServerSummary:
    """Read ``GET {url}qiskit-runtime/v1`` and the backend listing with a runtime API key."""
    import requests

    api_url, _ = api_urls(url)
    where = display_url(url)
    headers = {"Authorization": f"apikey {api_key}"}
    answers = []
    for path in ("", "/backends"):
        try:
            response = requests.get(api_url + path, headers=headers, timeout=30, verify=verify)
        except requests.RequestException as exc:
            raise ConnectionRefused(f"Could not reach the server at {where}: {exc}") from exc
        response.raise_for_status()
        answers.append(response.json())
    info, listing = answers
    return ServerSummary(
        version=str(info.get("version", "")),
        programs=tuple(str(p["id"]) for p in info.get("programs", [])),
        executors=tuple(str(e["name"]) for e in info.get("executors", [])),
        backends=len(listing.get("devices", [])),
    )

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
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

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


def request_api_key(url: str, token: str, verify: bool = True) -> str:
    """Trade a Jupyter credential for a runtime API key at the server at ``url``."""
    import requests

    _, iam_url = api_urls(url)
    try:
        response = requests.post(
            f"{iam_url}/apikeys",
            headers={"Authorization": f"token {token}"},
            timeout=30,
            verify=verify,
        )
    except requests.RequestException as exc:
        raise ConnectionRefused(f"Could not reach the Jupyter server at {url}: {exc}") from exc
    if response.status_code in (401, 403):
        raise ConnectionRefused(f"The Jupyter server at {url} did not accept the token.")
    if response.status_code == 404:
        raise ConnectionRefused(
            f"The Jupyter server at {url} has no Qiskit Runtime API: is jupyter_qiskit_runtime "
            "installed and enabled there?"
        )
    response.raise_for_status()
    return str(response.json()["apikey"])


def connect(url: str, token: str, **service_kwargs: Any) -> QiskitRuntimeService:
    """A ``QiskitRuntimeService`` for the runtime API of the Jupyter server at ``url``.

    Args:
        url: The Jupyter server's URL, including its base_url (``http://127.0.0.1:8888/``).
        token: A credential that server accepts (its Jupyter token, or a JupyterHub API token).
            It is sent once, to that server, for a runtime API key; the service holds the key.
        service_kwargs: Further arguments for ``QiskitRuntimeService`` (``verify``, ``proxies``).
    """
    from qiskit_ibm_runtime import QiskitRuntimeService

    api_key = request_api_key(url, token, verify=service_kwargs.get("verify", True) is not False)
    api_url, iam_url = api_urls(url)
    with _environment(IAM_URL=iam_url, QISKIT_FUNCTIONS_EXPERIMENTAL="1"):
        return QiskitRuntimeService(
            channel="ibm_quantum_platform",
            token=api_key,
            url=api_url,
            instance=LOCAL_INSTANCE,
            url_resolver=resolve_url,
            **service_kwargs,
        )

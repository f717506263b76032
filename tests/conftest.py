"""Shared fixtures: pytest-jupyter's in-process server, and real server processes for the client."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.utils import url_path_join

from .servers import BASE_URL, ServerProcess

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_base_url() -> str:
    """Every in-process test runs under a base_url that needs quoting."""
    return BASE_URL


@pytest.fixture
def jp_server_config(tmp_path: Path) -> dict:
    """Enable the extension, with its database in the test's temporary directory."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_qiskit_runtime": True}},
        "QiskitRuntimeApp": {"db_path": str(tmp_path / "jobs.sqlite3"), "pool_size": 1},
    }


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real Jupyter server process shared by the end-to-end tests (warm workers)."""
    with ServerProcess(
        tmp_path_factory.mktemp("server"),
        "test-token",
        "--QiskitRuntimeApp.pool_size=2",
        "--QiskitRuntimeApp.prestart_workers=2",
    ) as proc:
        yield proc


@pytest.fixture(scope="session")
def two_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose identity provider knows two users, alice and bob; one job slot, so that
    queued jobs show the order in which users are served."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("two-users"),
        "unused-admin-token",
        "--ServerApp.identity_provider_class=tests.identity.TwoUserIdentityProvider",
        "--QiskitRuntimeApp.pool_size=1",
    )
    proc.token = "alice-token"  # the readiness probe and default headers act as alice
    with proc:
        yield proc


#: The password of ``password_server``.
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a password and no token, as after `jupyter server password`: its kernels
    find no token, only the key file the extension writes for them. One warm worker."""
    from jupyter_server.auth.security import passwd

    with ServerProcess(
        tmp_path_factory.mktemp("password-only"),
        "",
        f"--PasswordIdentityProvider.hashed_password={passwd(PASSWORD)}",
        "--QiskitRuntimeApp.pool_size=1",
        "--QiskitRuntimeApp.prestart_workers=1",
    ) as proc:
        yield proc


@pytest.fixture(scope="session")
def service(server: ServerProcess):
    """A ``QiskitRuntimeService`` connected to the shared server through ``connect()``."""
    from jupyter_qiskit_runtime import connect

    return connect(server.url, server.token)


def json_by_default(headers: dict[str, str] | None, kwargs: dict[str, Any]) -> dict[str, str]:
    """``headers`` with ``Content-Type: application/json`` added when the request has a body and
    gives no Content-Type: the official client sends every body so, and Tornado's HTTP client
    would send it as a form, which the API answers with 415."""
    headers = dict(headers or {})
    if kwargs.get("body") is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return headers


@pytest.fixture
def jp_fetch(jp_fetch):
    """pytest-jupyter's ``jp_fetch``, sending a body as JSON unless a Content-Type is given."""

    def fetch(*parts: str, headers: dict[str, str] | None = None, **kwargs: Any):
        return jp_fetch(*parts, headers=json_by_default(headers, kwargs), **kwargs)

    return fetch


@pytest.fixture
def anon_fetch(jp_serverapp, http_server_client, jp_base_url):
    """Like ``jp_fetch`` but sends no credentials at all (unless given) and never raises; a body
    goes as JSON unless a Content-Type is given."""

    def fetch(*parts: str, headers: dict[str, str] | None = None, **kwargs: Any):
        url = url_path_join(jp_base_url, urllib.parse.quote(url_path_join(*parts)))
        return http_server_client.fetch(
            url,
            headers=json_by_default(headers, kwargs),
            raise_error=False,
            request_timeout=20,
            **kwargs,
        )

    return fetch

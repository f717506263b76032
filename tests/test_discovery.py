"""``connect()`` with no arguments: finding the server and a credential, against real servers.

Every server here runs under the base_url ``/a%40b/``. The environment and runtime directory a
kernel would see are passed to ``discover_server`` (or set with monkeypatch for ``connect()``).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from qiskit import transpile
from qiskit_ibm_runtime import SamplerV2

from jupyter_qiskit_runtime import ServerNotFoundError, connect
from jupyter_qiskit_runtime.credentials_file import (
    credentials_file_name,
    remove_stale_credentials_files,
)
from jupyter_qiskit_runtime.kernel.client import ConnectionRefused
from jupyter_qiskit_runtime.kernel.discovery import (
    API_KEY,
    ENV_TOKEN,
    ENV_URL,
    JUPYTER_TOKEN,
    discover_server,
)
from jupyter_qiskit_runtime.runtime.tokens import API_KEY as API_KEY_KIND

from .circuits import bell_circuit
from .servers import BASE_URL, ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: What a kernel may inherit that would change what discovery finds.
KERNEL_VARIABLES = (
    ENV_URL,
    ENV_TOKEN,
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_SERVICE_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JPY_PARENT_PID",
)


def as_kernel(monkeypatch: pytest.MonkeyPatch, runtime_dir: Path, **variables: str) -> None:
    """Give this process the environment of a kernel: ``runtime_dir`` and ``variables`` only."""
    for name in KERNEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime_dir))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def server_files(*servers: ServerProcess, into: Path, secrets: bool = True) -> Path:
    """A runtime directory holding the info files (and key files) of several running servers,
    as when one user runs several: they share ``jupyter --runtime-dir``."""
    into.mkdir()
    for server in servers:
        assert server.process is not None
        pid = server.process.pid
        for name in (f"jpserver-{pid}.json", credentials_file_name(pid)):
            source = server.runtime_dir / name
            if source.exists() and (secrets or name.startswith("jpserver-")):
                shutil.copy2(source, into / name)
    return into


def run_bell(service, shots: int = 100) -> dict[str, int]:
    """Sample a Bell pair on ``fake_manila@aer_ideal`` through ``service``."""
    backend = service.backend("fake_manila@aer_ideal")
    job = SamplerV2(mode=backend).run([transpile(bell_circuit(), backend=backend)], shots=shots)
    return job.result()[0].data.meas.get_counts()


# -- the password-only server and its key file --------------------------------------------------


def test_password_only_server_writes_a_private_key_file_for_its_kernels(
    password_server: ServerProcess,
) -> None:
    """The server has no token; beside its info file is ``jupyter_qiskit_runtime-<pid>.json``,
    mode 0600, with its URL (with base_url) and a key that opens this API and nothing else."""
    assert password_server.process is not None
    pid = password_server.process.pid
    info = json.loads((password_server.runtime_dir / f"jpserver-{pid}.json").read_text())
    assert info["token"] == ""
    path = password_server.runtime_dir / credentials_file_name(pid)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = json.loads(path.read_text())
    assert content["pid"] == pid
    assert content["url"] == info["url"] == password_server.url
    assert content["base_url"] == BASE_URL
    assert content["owner"] == getpass.getuser()
    key = {"Authorization": f"apikey {content['apikey']}"}
    assert requests.get(password_server.api, headers=key, timeout=30).status_code == 200
    jupyter = f"{password_server.url}api/contents"
    for scheme in ("token", "bearer"):
        auth = {"Authorization": f"{scheme} {content['apikey']}"}
        assert requests.get(jupyter, headers=auth, timeout=30).status_code == 403
    assert requests.get(password_server.api, timeout=30).status_code == 403


def test_connect_with_no_arguments_on_a_password_only_server(
    password_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a kernel of a password-only server, ``connect()`` finds the server and its key file,
    and the service runs a job, lists it and reports usage."""
    as_kernel(monkeypatch, password_server.runtime_dir)
    found = discover_server()
    assert (found.url, found.kind) == (password_server.url, API_KEY)
    service = connect()
    assert sorted(run_bell(service)) == ["00", "11"]
    assert len(service.jobs(limit=5)) >= 1
    assert service.usage()["usage_limit_reached"] is False


async def test_key_file_is_private_valid_and_removed_when_the_extension_stops(
    jp_serverapp, jp_runtime_dir
) -> None:
    """In-process: the file is written at initialization with mode 0600 and the server's URL;
    its key verifies as a runtime API key of the shared owner; stopping removes it."""
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_qiskit_runtime"]
    path = Path(jp_runtime_dir) / credentials_file_name(os.getpid())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = json.loads(path.read_text())
    assert content["url"] == jp_serverapp.connection_url
    identity = app.tokens.verify(content["apikey"], API_KEY_KIND)
    assert identity is not None and identity.username == getpass.getuser()
    # Once listening, a server whose port changed (port_retries) rewrites the file, still 0600.
    app._credentials_content["url"] = "http://127.0.0.1:1/a%40b/"
    path.write_text(json.dumps(app._credentials_content))
    await app._start_jupyter_server_extension(jp_serverapp)
    assert json.loads(path.read_text()) == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    await app.stop_extension()
    assert not path.exists()


def test_key_files_of_servers_no_longer_running_are_removed(tmp_path: Path) -> None:
    """A crashed server's file goes when another server starts; a running one's stays."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / credentials_file_name(int(dead.stdout))
    alive = tmp_path / credentials_file_name(os.getpid())
    stale.write_text("{}")
    alive.write_text("{}")
    remove_stale_credentials_files(str(tmp_path))
    assert not stale.exists() and alive.exists()


# -- local servers: which one, and which credential ---------------------------------------------


def test_a_server_with_a_token_is_found_with_its_key_file(server: ServerProcess) -> None:
    """The only server running, under a non-default base_url; the key file is preferred (no
    round trip), so the Jupyter token is not used."""
    found = discover_server(environ={}, runtime_dir=str(server.runtime_dir))
    assert found.url == server.url and found.url.endswith("/a%40b/")
    assert found.kind == API_KEY and found.credential != server.token
    assert server.token not in repr(found) and found.credential not in repr(found)


def test_a_server_without_key_file_is_used_with_its_token(
    two_users: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose identity provider names users writes no key file (its key would belong
    to no one); its kernels use its token, traded for an API key of the token's user."""
    assert two_users.process is not None
    assert not (two_users.runtime_dir / credentials_file_name(two_users.process.pid)).exists()
    found = discover_server(environ={}, runtime_dir=str(two_users.runtime_dir))
    assert (found.url, found.kind) == (two_users.url, JUPYTER_TOKEN)
    assert found.credential == "alice-token"
    as_kernel(monkeypatch, two_users.runtime_dir)
    service = connect()
    assert service.backend("fake_manila@aer_ideal").num_qubits == 5


def test_among_several_servers_the_one_that_started_the_kernel_is_chosen(
    server: ServerProcess, password_server: ServerProcess, tmp_path: Path
) -> None:
    """Two servers in one runtime directory: ``JPY_PARENT_PID`` (set by the server that
    launches a kernel) picks one; without it, and not an ancestor of this process, discovery
    refuses to guess and names both; with a URL it takes that one."""
    runtime = str(server_files(server, password_server, into=tmp_path / "runtime"))
    assert password_server.process is not None
    parent = {"JPY_PARENT_PID": str(password_server.process.pid)}
    found = discover_server(environ=parent, runtime_dir=runtime)
    assert (found.url, found.kind) == (password_server.url, API_KEY)

    with pytest.raises(ServerNotFoundError) as refused:
        discover_server(environ={}, runtime_dir=runtime)
    assert "2 servers are running" in str(refused.value) and "not guessing" in str(refused.value)
    assert server.url in str(refused.value) and password_server.url in str(refused.value)

    by_url = discover_server(password_server.url, environ={}, runtime_dir=runtime)
    assert by_url.url == password_server.url


def test_a_server_started_inside_a_hub_session_keeps_its_own_kernels(
    server: ServerProcess, password_server: ServerProcess, tmp_path: Path
) -> None:
    """A kernel that inherited the Hub's variables but was started by another server (a
    ``jupyter lab`` run in the single-user server's terminal) connects to that server."""
    runtime = str(server_files(server, password_server, into=tmp_path / "runtime"))
    assert password_server.process is not None
    environ = {
        "JUPYTERHUB_API_TOKEN": server.token,
        "JUPYTERHUB_SERVICE_URL": server.url,
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
        "JPY_PARENT_PID": str(password_server.process.pid),
    }
    found = discover_server(environ=environ, runtime_dir=runtime)
    assert (found.url, found.kind) == (password_server.url, API_KEY)


def test_a_password_only_server_without_its_key_file_is_explained(
    password_server: ServerProcess, tmp_path: Path
) -> None:
    """Without the key file (extension not enabled there), a password-only server cannot be
    used, and the error says so."""
    runtime = server_files(password_server, into=tmp_path / "runtime", secrets=False)
    with pytest.raises(ServerNotFoundError, match=r"no token \(password-only\) and no readable"):
        discover_server(environ={}, runtime_dir=str(runtime))


# -- explicit variables, JupyterHub, nothing at all ---------------------------------------------


def test_environment_variables_override_everything(
    server: ServerProcess, password_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``QISKIT_RUNTIME_JUPYTER_URL`` and ``_TOKEN`` win over JupyterHub's variables and the
    local servers; one without the other is an error naming the missing one."""
    hub = {"JUPYTERHUB_API_TOKEN": "not-this", "JUPYTERHUB_SERVICE_URL": password_server.url}
    as_kernel(monkeypatch, password_server.runtime_dir, **hub)
    monkeypatch.setenv(ENV_URL, server.url.rstrip("/"))
    monkeypatch.setenv(ENV_TOKEN, server.token)
    found = discover_server()
    assert (found.url, found.kind, found.credential) == (server.url, JUPYTER_TOKEN, server.token)
    assert connect().backend("ideal_5q@aer_ideal").num_qubits == 5
    monkeypatch.delenv(ENV_TOKEN)
    with pytest.raises(ServerNotFoundError, match=f"{ENV_TOKEN} is not set"):
        connect()


def test_jupyterhub_single_user_server(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A kernel of a single-user server inherits the Hub's API token with the server's URL
    (``JUPYTERHUB_SERVICE_URL``), or in older hubs only its prefix: the running server with that
    base_url. The token is sent as ``Authorization: token``; jobs run."""
    hub = {
        "JUPYTERHUB_API_TOKEN": server.token,
        "JUPYTERHUB_SERVICE_PREFIX": BASE_URL,
        "JUPYTERHUB_SERVICE_URL": server.url.replace("127.0.0.1", "0.0.0.0"),
    }
    as_kernel(monkeypatch, tmp_path / "empty-runtime", **hub)
    found = discover_server()
    assert (found.url, found.kind) == (server.url, JUPYTER_TOKEN)
    assert found.source == "JupyterHub's API token"
    assert sorted(run_bell(connect())) == ["00", "11"]

    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", BASE_URL)
    found = discover_server(runtime_dir=str(server.runtime_dir))
    assert (found.url, found.credential) == (server.url, server.token)

    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", server.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "revoked-token")
    with pytest.raises(ConnectionRefused, match="did not accept the token"):
        connect()


def test_nothing_found_says_what_was_tried_and_what_to_do(tmp_path: Path) -> None:
    """Outside Jupyter, with no variables: a ``ConnectionError`` listing each thing tried and
    the two ways to name a server."""
    with pytest.raises(ServerNotFoundError) as raised:
        discover_server(environ={}, runtime_dir=str(tmp_path))
    message = str(raised.value)
    assert isinstance(raised.value, ConnectionError)
    assert f"{ENV_URL} and {ENV_TOKEN}: not set" in message
    assert "JUPYTERHUB_API_TOKEN not set" in message
    assert f"running Jupyter servers in {tmp_path}: none" in message
    assert "connect(url, token)" in message and "--url URL --token TOKEN" in message

"""``%load_ext jupyter_qiskit_runtime`` and ``%qiskit_runtime`` in a real IPython shell, against a
real server process."""

from __future__ import annotations

import getpass
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from qiskit_ibm_runtime import QiskitRuntimeService

from jupyter_qiskit_runtime.kernel.discovery import ENV_TOKEN, ENV_URL

from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def shell() -> Iterator[InteractiveShell]:
    """An IPython shell with the extension loaded, as after ``%load_ext jupyter_qiskit_runtime``."""
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "jupyter_qiskit_runtime")
    yield ipython
    InteractiveShell.clear_instance()


@pytest.fixture
def namespace(shell: InteractiveShell) -> Iterator[dict]:
    """The shell's user namespace, without what a previous test put there; defaults restored."""
    for name in ("service", "svc", "backend"):
        shell.user_ns.pop(name, None)
    yield shell.user_ns
    shell.run_line_magic("config", 'QiskitRuntimeMagics.default_backend = ""')
    shell.run_line_magic("config", 'QiskitRuntimeMagics.default_name = "service"')


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """What the magic printed, which must be exactly one line."""
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n"), out
    return out.strip()


def test_url_and_token_give_a_service_and_one_line_without_the_token(
    shell: InteractiveShell, namespace: dict, server: ServerProcess, capsys
) -> None:
    """``--url --token``: ``service`` is a ``QiskitRuntimeService``, no ``backend``; one line
    names the server, the user, 206 backends and the executors, and neither the token nor the
    API key."""
    shell.run_line_magic("qiskit_runtime", f"--url {server.url} --token {server.token} --no-panel")
    line = one_line(capsys)
    service = namespace["service"]
    assert isinstance(service, QiskitRuntimeService) and "backend" not in namespace
    assert line == (
        f"Connected to {server.url} as {getpass.getuser()}: 206 backends, executors aer, "
        "aer_ideal; `service` ready."
    )
    assert server.token not in line and service._account.token not in line
    assert service.backend("fake_manila@aer_ideal").num_qubits == 5


def test_the_magic_shows_no_client_notice_and_leaves_the_clients_logger_on(
    shell: InteractiveShell, namespace: dict, server: ServerProcess, capsys
) -> None:
    """``%qiskit_runtime`` prints its one line and nothing else: the client's notice that it
    loads "the given token" is not emitted, while the client's logger still passes its other
    warnings on."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    client_logger = logging.getLogger("qiskit_ibm_runtime")
    handler = Keep(logging.WARNING)
    client_logger.addHandler(handler)
    try:
        shell.run_line_magic(
            "qiskit_runtime", f"--url {server.url} --token {server.token} --no-panel"
        )
        line = one_line(capsys)
        logging.getLogger("qiskit_ibm_runtime.qiskit_runtime_service").warning("another warning")
    finally:
        client_logger.removeHandler(handler)
    assert line.startswith("Connected to ")
    assert [r.getMessage() for r in records] == ["another warning"]


def test_environment_variables_backend_and_name(
    shell: InteractiveShell,
    namespace: dict,
    server: ServerProcess,
    capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``QISKIT_RUNTIME_JUPYTER_URL``/``_TOKEN`` set, no URL or token is needed; ``--name``
    and ``--backend`` choose the variables."""
    monkeypatch.setenv(ENV_URL, server.url)
    monkeypatch.setenv(ENV_TOKEN, server.token)
    shell.run_line_magic("qiskit_runtime", "--name svc --backend fake_manila@aer_ideal")
    line = one_line(capsys)
    assert "service" not in namespace
    assert isinstance(namespace["svc"], QiskitRuntimeService)
    assert namespace["backend"].name == "fake_manila@aer_ideal"
    assert line.endswith("`svc` and `backend` (fake_manila@aer_ideal) ready.")
    assert server.token not in line


def test_configured_defaults(
    shell: InteractiveShell, namespace: dict, server: ServerProcess, capsys
) -> None:
    """``%config QiskitRuntimeMagics.default_backend`` and ``default_name`` apply when the
    options are not given; ``--backend`` still wins."""
    shell.run_line_magic("config", 'QiskitRuntimeMagics.default_backend = "fake_manila@aer_ideal"')
    shell.run_line_magic("config", 'QiskitRuntimeMagics.default_name = "svc"')
    shell.run_line_magic("qiskit_runtime", f"--url {server.url} --token {server.token}")
    assert one_line(capsys).endswith("`svc` and `backend` (fake_manila@aer_ideal) ready.")
    assert namespace["backend"].name == "fake_manila@aer_ideal"
    shell.run_line_magic(
        "qiskit_runtime", f"--url {server.url} --token {server.token} --backend ideal_5q@aer"
    )
    capsys.readouterr()
    assert namespace["backend"].name == "ideal_5q@aer"


def test_help_documents_every_option_and_does_nothing_else(
    shell: InteractiveShell, namespace: dict, capsys
) -> None:
    """``%qiskit_runtime --help`` prints its usage and options, and connects to nothing."""
    shell.run_line_magic("qiskit_runtime", "--help")
    out = capsys.readouterr().out
    assert out.startswith("%qiskit_runtime [-h] [--backend NAME] [--name VAR] [--no-panel]")
    for option in ("--backend NAME", "--name VAR", "--no-panel", "--url URL", "--token TOKEN"):
        assert f"\n  {option}" in out
    assert ENV_URL in out and "service" not in namespace


def test_usage_errors(
    shell: InteractiveShell,
    namespace: dict,
    server: ServerProcess,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    """No server to be found, a bad variable name, an unknown backend, a token without URL, an
    unknown option: each a ``UsageError`` that says what is wrong, and nothing assigned."""
    for name in (ENV_URL, ENV_TOKEN, "JUPYTERHUB_API_TOKEN", "JPY_PARENT_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(UsageError, match=f"(?s)No Jupyter server .* set {ENV_URL} and {ENV_TOKEN}"):
        shell.run_line_magic("qiskit_runtime", "")
    given = f"--url {server.url} --token {server.token}"
    with pytest.raises(UsageError, match="'1x' is not a valid variable name"):
        shell.run_line_magic("qiskit_runtime", f"{given} --name 1x")
    with pytest.raises(UsageError, match="No backend 'fake_nowhere@aer'"):
        shell.run_line_magic("qiskit_runtime", f"{given} --backend fake_nowhere@aer")
    with pytest.raises(UsageError, match="A token without a URL"):
        shell.run_line_magic("qiskit_runtime", f"--token {server.token}")
    with pytest.raises(UsageError, match="unrecognized arguments: --nope"):
        shell.run_line_magic("qiskit_runtime", "--nope")
    assert "service" not in namespace and "backend" not in namespace


def test_importing_the_package_imports_neither_qiskit_nor_ipython() -> None:
    """The server imports the package; the magic's imports happen in ``%load_ext`` only."""
    code = (
        "import sys, jupyter_qiskit_runtime\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'qiskit', 'IPython'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

"""A Sphinx extension: a Jupyter server with this extension for the notebooks that the build runs.

myst-nb executes the notebooks in kernels of its own, outside any Jupyter server, so
``%qiskit_runtime`` and ``connect()`` would find no server. This extension starts ``jupyter
server`` on 127.0.0.1 with a random token, in a temporary directory (its own job database, data,
runtime and config directories, so it neither sees nor touches the user's), when the builder starts
and the notebooks are to be executed. It sets ``QISKIT_RUNTIME_JUPYTER_URL`` and
``QISKIT_RUNTIME_JUPYTER_TOKEN`` in the build's environment, which the kernels inherit, and stops
the server when the build finishes (or the process exits).

Configuration (conf.py): ``qiskit_runtime_server_args``, extra command-line arguments of the
server (``--QiskitRuntimeApp.pool_size=2`` and the like); ``qiskit_runtime_server_timeout``, the
seconds to wait for it to answer.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from jupyter_qiskit_runtime.kernel.discovery import ENV_TOKEN, ENV_URL

logger = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NotebookServer:
    """``jupyter server`` with the extension, in a temporary directory, for the build's kernels."""

    def __init__(self, args: list[str], timeout: float) -> None:
        self.args = args
        self.timeout = timeout
        self.token = secrets.token_hex(24)
        self.workdir = Path(tempfile.mkdtemp(prefix="qiskit-runtime-docs-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._saved_env: dict[str, str | None] = {}

    def start(self) -> None:
        """Start the server, wait until its API answers, and point kernels at it."""
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = {
            **os.environ,
            "JUPYTER_DATA_DIR": str(self.workdir / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
            "JUPYTER_CONFIG_DIR": str(self.workdir / "config"),
        }
        command = [
            sys.executable, "-m", "jupyter_server",
            "--allow-root", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.workdir}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.jpserver_extensions=jupyter_qiskit_runtime=True",
            f"--QiskitRuntimeApp.db_path={self.workdir / 'jobs.sqlite3'}",
            *self.args,
        ]  # fmt: skip
        self.log_path = self.workdir / "server.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        deadline = time.monotonic() + self.timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_text = self.log_path.read_text(errors="replace")[-3000:]
                self.stop()
                raise ExtensionError(
                    f"The Jupyter server for the notebooks did not start:\n{log_text}"
                )
            time.sleep(0.2)
        for name, value in ((ENV_URL, self.url), (ENV_TOKEN, self.token)):
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        logger.info(
            "notebooks run against a Jupyter server at %s (pid %d)", self.url, self.process.pid
        )

    def _answers(self) -> bool:
        request = urllib.request.Request(
            f"{self.url}qiskit-runtime/v1", headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop the server, restore the environment, remove the temporary directory."""
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)


def _executes_notebooks(app: Sphinx) -> bool:
    return str(getattr(app.config, "nb_execution_mode", "off")) != "off"


def start_server(app: Sphinx) -> None:
    """At ``builder-inited``: start the server if the build executes notebooks."""
    if not _executes_notebooks(app):
        return
    server = NotebookServer(
        list(app.config.qiskit_runtime_server_args), float(app.config.qiskit_runtime_server_timeout)
    )
    server.start()
    app._qiskit_runtime_server = server  # type: ignore[attr-defined]


def stop_server(app: Sphinx, exception: BaseException | None) -> None:
    """At ``build-finished``: stop it."""
    server = getattr(app, "_qiskit_runtime_server", None)
    if server is not None:
        server.stop()
        app._qiskit_runtime_server = None  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("qiskit_runtime_server_args", [], "env", types=[list])
    app.add_config_value("qiskit_runtime_server_timeout", 120.0, "env", types=[float, int])
    app.connect("builder-inited", start_server)
    app.connect("build-finished", stop_server)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

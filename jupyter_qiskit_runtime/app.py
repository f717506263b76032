"""The Jupyter Server extension: configuration, the runtime's lifetime, and the routes."""

from __future__ import annotations

import asyncio
import getpass
import os
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil
from jupyter_core.paths import jupyter_data_dir
from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from jupyter_server.extension.application import ExtensionApp
from traitlets import Dict, Enum, Float, Int, Unicode

from ._version import __version__
from .credentials_file import (
    remove_credentials_file,
    remove_stale_credentials_files,
    write_credentials_file,
)
from .handlers import default_handlers
from .runtime.catalog import DEFAULT_DEVICE_EXECUTOR, BackendCatalog
from .runtime.config import RuntimeConfig
from .runtime.executor_config import configure_executors
from .runtime.qiskit_runtime import QiskitRuntime
from .runtime.store import JOURNAL_CHOICES
from .runtime.tokens import TokenIdentity, TokenIssuer

#: Where the API lives, relative to the server's base_url.
URL_PREFIX = "/qiskit-runtime"

#: The oldest qiskit-ibm-runtime the server side runs with (the kernel side needs less).
MIN_SERVER_CLIENT_VERSION = (0, 51)


def check_server_requirements() -> None:
    """Refuse to serve with a qiskit-ibm-runtime older than the server side needs."""
    installed = version("qiskit-ibm-runtime")
    if tuple(int(part) for part in installed.split(".")[:2]) < MIN_SERVER_CLIENT_VERSION:
        needed = ".".join(map(str, MIN_SERVER_CLIENT_VERSION))
        raise RuntimeError(
            f"jupyter_qiskit_runtime serves the API with qiskit-ibm-runtime {needed} or newer; "
            f"this environment has {installed}. Run `pip install 'qiskit-ibm-runtime>={needed}'` "
            "in the Jupyter server's environment (kernels may keep an older client)."
        )


class QiskitRuntimeApp(ExtensionApp):
    """Serves the IBM Qiskit Runtime REST API from Jupyter Server, running jobs on simulators."""

    name = "jupyter_qiskit_runtime"
    description = __doc__
    version = __version__
    load_other_extensions = True
    extension_url = f"{URL_PREFIX}/v1"
    serverapp_config: dict[str, Any] = {"open_browser": False}  # noqa: RUF012

    pool_size = Int(
        2,
        config=True,
        help="""How many jobs run at once. Each running job has its own worker process; this is
        also the number of threads in the pool that drives them. Jobs beyond it wait in a fair
        queue (first in, first out for one user; round-robin across users).""",
    )
    prestart_workers = Int(
        0,
        config=True,
        help="""Worker processes to start when the server starts, so that the first job does not
        wait for one to load Qiskit (a few seconds). 0 starts them on first use. At most
        pool_size are ever started.""",
    )
    worker_memory_limit = Int(
        0,
        config=True,
        help="""Resident memory limit of one worker process, in bytes. A job whose worker goes
        over it is stopped and fails with that reason; Jupyter and other jobs carry on. Address
        space is not limited (an idle Aer worker maps 1.6 GB of virtual memory). 0 means 60% of
        the memory available at start, shared among pool_size workers.""",
    )
    db_path = Unicode(
        "",
        config=True,
        help="""The SQLite database that keeps jobs, params, results and logs across restarts.
        Empty means `<jupyter data dir>/qiskit_runtime/jobs.sqlite3`.""",
    )
    journal_mode = Enum(
        list(JOURNAL_CHOICES),
        default_value="AUTO",
        config=True,
        help="""SQLite journal mode of the job database. AUTO (the default) uses WAL, which
        makes a job cost fewer and cheaper disk writes, where the database is on a local file
        system, and DELETE where it is on a network file system (NFS, SMB/CIFS, sshfs, Lustre,
        GPFS, ...: common for home directories under JupyterHub), on which WAL is unsafe. The
        server logs which it chose and why. WAL or DELETE forces that mode (TRUNCATE and PERSIST
        are rollback journals too). See docs/architecture.md.""",
    )
    max_payload_bytes = Int(
        100 * 2**20,
        config=True,
        help="""Largest request body accepted, in bytes; a larger job is refused with 413. 0 means
        no limit beyond Jupyter Server's own max_body_size.""",
    )
    max_pending_jobs_per_user = Int(
        100,
        config=True,
        help="""Most unfinished (queued or running) jobs one user may have; a further job is
        refused with 429 until some finish. 0 means no limit.""",
    )
    retention_days = Float(
        30.0,
        config=True,
        help="""Finished jobs, with their results and logs, are deleted this many days after they
        finish. 0 keeps them forever.""",
    )
    token_lifetime = Int(
        3600,
        config=True,
        help="""Lifetime in seconds of the bearer tokens issued at the IAM-compatible endpoint
        (`{base_url}qiskit-runtime/iam/identity/token`). The client renews them by itself.""",
    )
    quick_job_wait = Float(
        0.35,
        config=True,
        help="""Seconds after a job's submission during which a request for its state
        (GET /jobs/{id}) that finds it queued or running waits for it to finish before answering,
        up to this age of the job. The official client asks for the state right after submitting
        and then every 0.5 s (0.1 s in a session), so without this wait a job that takes
        milliseconds costs half a second. The wait holds no thread and does not block the server;
        a longer job is answered when it reaches this age, and its submission is never delayed.
        0 answers at once. It also bounds how long POST /jobs holds its answer for a client that
        asks with `Prefer: wait=N` (connect() does) until the job is final, so that a quick job
        costs that client one request; connect() waits for longer jobs through
        GET /jobs/{id}/wait, which does not depend on this.""",
    )
    executors = Dict(
        {},
        config=True,
        help="""The executors, the simulation engines named after the '@' of backend names
        (fake_manila@aer): executor name to a mapping of its type and settings, such as
        {"aer": {"type": "aer", "noise": True}, "aer_ideal": {"type": "aer", "noise": False},
        "aer_fast": {"type": "aer", "noise": False, "precision": "single", "threads": 1},
        "gpu": {"type": "custatevec", "device_id": 0}}.
        Every fake backend and ideal_<n>q simulator is offered under each executor.
        'type' is an executor type: 'aer' (Qiskit Aer on CPU), 'custatevec' (Aer's GPU build
        with NVIDIA cuStateVec), a plug-in's entry-point name (group
        jupyter_qiskit_runtime.executors), or an import path 'module:Class'; without 'type',
        the executor's name is its type. Every type takes 'noise' (apply the fake backend's
        noise model), 'default_shots' (sampler shots when a job sets none) and
        'max_concurrent_jobs' (its jobs running at once). 'aer' also takes 'precision'
        ('double' or 'single') and 'threads' (0: all cores); 'custatevec' takes 'precision',
        'device_id', 'memory_fraction' (of the GPU's memory jobs may use, 0.9),
        'device_memory_bytes' (0: ask the driver) and runs one job per GPU at a time by default.
        Setting it replaces the defaults: empty (the default) means aer (noisy) and aer_ideal
        (noise-free), plus custatevec where an NVIDIA GPU and Aer's GPU build are present.
        An executor that is misconfigured or cannot run here is left out with an error in the
        log, and its backends answer 404 with the reason; the server starts regardless. On the
        command line give the whole mapping as JSON, or one executor per option:
        --QiskitRuntimeApp.executors aer_fast='{"type": "aer", "noise": false}'.
        See docs/executors.md.""",
    )
    device_executor = Unicode(
        DEFAULT_DEVICE_EXECUTOR,
        config=True,
        help="""The executor that runs IBM device names: each fake backend that copies an IBM
        device (fake_kingston copies ibm_kingston) also answers to the device's name, as
        fake_kingston@<this executor>, so that code naming a device (service.backend(
        "ibm_kingston")) runs unchanged. The device names are listed as backends of their own;
        their jobs and sessions are recorded on the virtual backend. Empty, or an executor
        this server does not run: no device names. See docs/backends.md.""",
    )
    shutdown_timeout = Float(
        10.0,
        config=True,
        help="""Seconds the server waits, when it stops, for job threads to put running jobs back
        in the queue and for worker processes to exit.""",
    )

    def _db_path(self) -> str:
        """The configured database path, or the default one when it is empty."""
        return self.db_path or os.path.join(jupyter_data_dir(), "qiskit_runtime", "jobs.sqlite3")

    def _memory_limit(self) -> int:
        if self.worker_memory_limit > 0:
            return int(self.worker_memory_limit)
        return int(psutil.virtual_memory().available * 0.6 / max(self.pool_size, 1))

    def initialize_settings(self) -> None:
        """Build the runtime (store, scheduler, thread pool) and start recovering old jobs."""
        check_server_requirements()
        config = RuntimeConfig(
            db_path=self._db_path(),
            journal_mode=self.journal_mode,
            pool_size=max(int(self.pool_size), 1),
            worker_memory_limit=self._memory_limit(),
            max_payload_bytes=self.max_payload_bytes,
            max_pending_jobs_per_user=self.max_pending_jobs_per_user,
            retention_days=self.retention_days,
            prestart_workers=self.prestart_workers,
            quick_job_wait=max(float(self.quick_job_wait), 0.0),
        )
        serverapp = self.serverapp
        assert serverapp is not None, "the extension is initialized by a server"
        activity = serverapp.web_app.settings.setdefault("last_activity_times", {})

        def on_activity() -> None:
            # Running jobs count as activity, so idle culling never stops the server mid-job.
            activity["qiskit_runtime"] = datetime.now(UTC)

        setup = configure_executors(self.executors, self.log)
        catalog = BackendCatalog(setup.executors, setup.unavailable, self.device_executor)
        if self.device_executor and catalog.device_executor is None:
            self.log.warning(
                "No IBM device names: QiskitRuntimeApp.device_executor '%s' is not an executor "
                "of this server.",
                self.device_executor,
            )
        self.runtime = QiskitRuntime(config, self.log, catalog=catalog, on_activity=on_activity)
        self.tokens = TokenIssuer(serverapp.cookie_secret, self.token_lifetime)
        self.runtime.start()
        self.log.info(
            "Qiskit Runtime API at %s%s/v1 (jobs in %s, %d at a time)",
            serverapp.base_url.rstrip("/"),
            URL_PREFIX,
            config.db_path,
            config.pool_size,
        )
        # Here, not in _start_jupyter_server_extension, which pytest-jupyter never runs.
        self._write_kernel_credentials()

    def _write_kernel_credentials(self) -> None:
        """Give this server's kernels a runtime API key in a file only its user can read.

        Only when the server's credentials identify no user (Jupyter's token or password): the
        key then belongs to the server's one owner. See ``credentials_file.py``.
        """
        serverapp, owner = self.serverapp, self._shared_owner()
        if serverapp is None or owner is None:
            return
        remove_stale_credentials_files(serverapp.runtime_dir)
        content = {
            "url": serverapp.connection_url,
            "base_url": serverapp.base_url,
            "pid": os.getpid(),
            "owner": owner,
            "apikey": self.tokens.issue_api_key(TokenIdentity(owner, owner, owner)),
        }
        try:
            self._credentials_file: Path | None = write_credentials_file(
                serverapp.runtime_dir, content
            )
        except OSError as exc:
            self.log.warning("Kernels will need a token to connect: %s", exc)
            return
        self._credentials_content = content
        self.log.info("Kernels of this server connect with the key in %s", self._credentials_file)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the server listens, rewrite the kernels' file if its port turned out different."""
        content = getattr(self, "_credentials_content", None)
        if content is not None and content["url"] != serverapp.connection_url:
            content["url"] = serverapp.connection_url
            self._credentials_file = write_credentials_file(serverapp.runtime_dir, content)

    def _shared_owner(self) -> str | None:
        """The one owner of everything when the server's credentials identify no user."""
        provider = self.serverapp.identity_provider if self.serverapp else None
        if type(provider) in (IdentityProvider, PasswordIdentityProvider):
            return getpass.getuser()
        return None

    def initialize_handlers(self) -> None:
        """Route every endpoint under ``{base_url}qiskit-runtime``."""
        kwargs: dict[str, Any] = {
            "runtime": self.runtime,
            "tokens": self.tokens,
            "shared_owner": self._shared_owner(),
        }
        self.handlers.extend(
            (f"{URL_PREFIX}{path}", handler, kwargs) for path, handler in default_handlers
        )

    async def stop_extension(self) -> None:
        """Remove the kernels' key file; stop the scheduler and worker processes, bounded by
        ``shutdown_timeout``."""
        credentials_file = getattr(self, "_credentials_file", None)
        if credentials_file is not None:
            remove_credentials_file(credentials_file)
        runtime = getattr(self, "runtime", None)
        if runtime is None:
            return
        timeout = float(self.shutdown_timeout)
        try:
            await asyncio.wait_for(asyncio.to_thread(runtime.close, timeout), timeout + 5)
        except TimeoutError:
            self.log.warning("The Qiskit Runtime did not stop within %.0f s", timeout + 5)


main = launch_new_instance = QiskitRuntimeApp.launch_instance

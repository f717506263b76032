"""The runtime facade: one object the REST handlers call, built once by the extension.

It owns the catalog, the store and the scheduler, and answers in plain data. It has no Tornado
imports; errors are the domain exceptions of ``errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._version import __version__
from .catalog import BackendCatalog
from .errors import (
    InvalidRequestError,
    InvalidStateError,
    ProgramNotFoundError,
    ServiceUnavailableError,
)
from .jobs import JobRequest, job_to_api, metrics_to_api, parse_json_body
from .scheduler import JobScheduler
from .sessions import SessionManager, SessionRequest
from .store import FAILED, JobStore


@dataclass(frozen=True)
class RuntimeConfig:
    """The settings the runtime needs, taken from the extension's traits."""

    db_path: str
    journal_mode: str
    pool_size: int
    worker_memory_limit: int
    max_payload_bytes: int
    max_pending_jobs_per_user: int
    retention_days: float
    prestart_workers: int


class QiskitRuntime:
    """The local Qiskit Runtime: backends, jobs and their results, per user."""

    def __init__(
        self,
        config: RuntimeConfig,
        log: logging.Logger,
        catalog: BackendCatalog | None = None,
        on_activity: Any = lambda: None,
    ) -> None:
        self.config = config
        self.log = log
        self.catalog = catalog or BackendCatalog()
        self.store = JobStore(config.db_path, config.journal_mode)
        self.sessions = SessionManager(self.store)
        self.scheduler = JobScheduler(
            store=self.store,
            catalog=self.catalog,
            pool_size=config.pool_size,
            worker_memory_limit=config.worker_memory_limit,
            max_pending_per_user=config.max_pending_jobs_per_user,
            retention_days=config.retention_days,
            log=log,
            on_activity=on_activity,
            session_refusal=self.sessions.refusal,
        )
        self._closed = False

    def start(self) -> None:
        """Recover unfinished jobs and, if configured, start warm workers."""
        self.scheduler.start()
        if self.config.prestart_workers:
            self.scheduler.warm_up(self.config.prestart_workers)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the scheduler and its workers (bounded by ``timeout``) and close the store."""
        if self._closed:
            return
        self._closed = True
        self.scheduler.shutdown(timeout)
        self.store.close()

    # -- service ----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Version, programs and executors of this server."""
        from ..execution.programs import PROGRAMS

        return {
            "name": "jupyter-qiskit-runtime",
            "version": __version__,
            "api_version": "v1",
            "programs": [{"id": k, "description": v} for k, v in PROGRAMS.items()],
            "executors": [
                {"name": e.name, "noisy": e.noisy, "description": e.description}
                for e in self.catalog.executors
            ],
        }

    def usage(self, owner: str) -> dict[str, Any]:
        """Usage in the shape of IBM's ``/instances/usage``: a local server has no limit."""
        return {
            "instance_id": "jupyter-qiskit-runtime",
            "plan_id": "local",
            "usage_consumed_seconds": 0,
            "usage_limit_seconds": None,
            "usage_allocation_seconds": None,
            "usage_remaining_seconds": None,
            "usage_limit_reached": False,
            "usage_period": None,
        }

    # -- backends ---------------------------------------------------------------------------

    def backends(self) -> dict[str, Any]:
        """The backend listing."""
        return {"devices": self.catalog.summaries(self.scheduler.queue_lengths())}

    def backend_configuration(self, name: str) -> dict[str, Any]:
        """A backend's configuration."""
        return self.catalog.configuration(name)

    def backend_properties(self, name: str) -> dict[str, Any]:
        """A backend's properties; empty for an ideal simulator."""
        return self.catalog.properties(name) or {}

    def backend_status(self, name: str) -> dict[str, Any]:
        """A backend's status, with its queue length."""
        return self.catalog.status(name, self.scheduler.queue_lengths().get(name, 0))

    # -- jobs -------------------------------------------------------------------------------

    async def submit(self, owner: str, body: bytes) -> dict[str, Any]:
        """Validate and queue a job from a raw ``POST /jobs`` body; its id and backend.

        Parsing JSON and decoding circuits take a while for big payloads, so they run in a
        thread, off the server's event loop.
        """
        if self._closed:
            raise ServiceUnavailableError("The server is shutting down and takes no new jobs.")
        request = await asyncio.to_thread(self._validated_request, body)
        if request.session_id:
            self.sessions.admit(owner, request.session_id, request.backend)
        record = self.scheduler.submit(owner, request)
        return {"id": record.id, "backend": record.backend, "session_id": record.session_id}

    def _validated_request(self, body: bytes) -> JobRequest:
        from ..execution.programs import PROGRAMS, ParamsError, validate_params

        request = JobRequest.from_body(parse_json_body(body, self.config.max_payload_bytes))
        if request.program_id not in PROGRAMS:
            raise ProgramNotFoundError(
                f"This server does not run the program '{request.program_id}'. "
                f"It runs: {', '.join(PROGRAMS)}."
            )
        backend = self.catalog.get(request.backend)
        try:
            validate_params(request.program_id, request.params, backend.metadata.n_qubits)
        except ParamsError as exc:
            raise InvalidRequestError(str(exc)) from exc
        return request

    def job(self, owner: str, job_id: str, exclude_params: bool = False) -> dict[str, Any]:
        """One of ``owner``'s jobs."""
        record = self.store.get(job_id, owner)
        params = None if exclude_params else self.store.params(job_id, owner)
        return job_to_api(record, params)

    def jobs(
        self, owner: str, limit: int, offset: int, pending: bool | None, backend: str | None,
        program_id: str | None, descending: bool,
    ) -> dict[str, Any]:  # fmt: skip
        """A page of ``owner``'s jobs."""
        records, total = self.store.list_jobs(
            owner, limit=limit, offset=offset, pending=pending, backend=backend,
            program_id=program_id, descending=descending,
        )  # fmt: skip
        return {
            "jobs": [job_to_api(r) for r in records],
            "count": total,
            "limit": limit,
            "offset": offset,
        }

    def results(self, owner: str, job_id: str) -> str:
        """The result text of a finished job: encoded result, or the error for a failed one."""
        record = self.store.get(job_id, owner)
        text = self.store.result(job_id, owner)
        if text is None:
            return "" if record.status != FAILED else (record.reason or "")
        return text

    def cancel(self, owner: str, job_id: str) -> None:
        """Cancel one of ``owner``'s jobs."""
        self.scheduler.cancel(job_id, owner)

    def logs(self, owner: str, job_id: str) -> str:
        """A job's logs."""
        return self.store.logs(job_id, owner)

    def metrics(self, owner: str, job_id: str) -> dict[str, Any]:
        """A job's metrics."""
        record = self.store.get(job_id, owner)
        return metrics_to_api(record, self.scheduler.position_in_queue(job_id))

    # -- sessions ---------------------------------------------------------------------------

    def create_session(self, owner: str, body: bytes) -> dict[str, Any]:
        """Open a session (``mode`` dedicated) or a batch (``mode`` batch) on a backend."""
        request = SessionRequest.from_body(parse_json_body(body, self.config.max_payload_bytes))
        self.catalog.get(request.backend)
        return self.sessions.create(owner, request).to_api(datetime.now(UTC))

    def session(self, owner: str, session_id: str) -> dict[str, Any]:
        """One of ``owner``'s sessions."""
        return self.sessions.get(owner, session_id).to_api(datetime.now(UTC))

    def update_session(self, owner: str, session_id: str, body: bytes) -> None:
        """``PATCH``: the one change a client can make is to stop the session accepting jobs."""
        update = parse_json_body(body, self.config.max_payload_bytes)
        if not isinstance(update, dict) or update.get("accepting_jobs") is not False:
            raise InvalidRequestError(
                'Send {"accepting_jobs": false} to close a session; it cannot be reopened.'
            )
        self.sessions.stop_accepting(owner, session_id)

    def cancel_session(self, owner: str, session_id: str) -> None:
        """Close the session now and cancel its queued and running jobs."""
        for job_id in self.sessions.close(owner, session_id):
            with contextlib.suppress(InvalidStateError):  # it finished meanwhile
                self.scheduler.cancel(job_id, owner)

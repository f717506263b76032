"""The runtime facade: one object the REST handlers call, built once by the extension.

It owns the catalog, the store and the scheduler, and answers in plain data. It has no Tornado
imports; errors are the domain exceptions of ``errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .._version import __version__
from .catalog import BackendCatalog
from .config import RuntimeConfig
from .cursors import decode_cursor, encode_cursor
from .errors import (
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    ServiceUnavailableError,
    WaitLimitError,
)
from .events import JobEvents
from .jobs import job_to_api, metrics_to_api, parse_json_body, validate_tags
from .listing import JobFilter, list_jobs, workloads_page
from .records import COMPLETED, FAILED, JobRecord, utc_iso
from .scheduler import JobScheduler
from .sessions import SessionManager, SessionRequest
from .store import JobStore
from .submission import INLINE_SUBMIT_BYTES, final_fields, in_batch, validated_request
from .watch import JobWatch

#: The instance every job of this server belongs to, as workloads name it.
INSTANCE = "jupyter-qiskit-runtime"

#: ``usage_remaining_seconds`` of an instance without a limit: IBM's field is an int, and code
#: compares it with a number (the largest 32-bit int, about 68 years).
UNLIMITED_SECONDS = 2**31 - 1


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
        self.events = JobEvents()
        self.store = JobStore(config.db_path, config.journal_mode, on_change=self.events.notify)
        log.info(
            "Job database journal mode %s: %s (%s)",
            self.store.journal.mode,
            self.store.journal.reason,
            config.db_path,
        )
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
        self._validator_warm = False
        self.watch = JobWatch(self.store, self.events, config.quick_job_wait, lambda: self._closed)

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
        self.events.close()  # waiting requests answer 503 now, not when the loop stops
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
            "programs": [{"id": p.name, "description": p.description} for p in PROGRAMS.values()],
            "executors": self.catalog.executor_listing(
                self.scheduler.queue_lengths(), self.config.worker_memory_limit
            ),
            "unavailable_executors": [
                {"name": name, "reason": reason}
                for name, reason in self.catalog.unavailable.items()
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
            "usage_remaining_seconds": UNLIMITED_SECONDS,
            "usage_limit_reached": False,
            "usage_period": None,
        }

    # -- backends ---------------------------------------------------------------------------

    def backends(self) -> dict[str, Any]:
        """The backend listing."""
        return {"devices": self.catalog.summaries(self.scheduler.queue_lengths())}

    def backend_configuration(self, name: str, calibration_id: str | None = None) -> bytes:
        """A backend's configuration, as JSON; 404 for a ``calibration_id`` other than its one."""
        self.catalog.check_calibration(name, calibration_id)
        return self.catalog.configuration_json(name)

    def backend_properties(
        self, name: str, calibration_id: str | None = None, updated_before: datetime | None = None
    ) -> bytes:
        """A backend's properties, as JSON; empty (``{}``) for an ideal simulator.

        404 for a ``calibration_id`` other than its one, or if its one calibration was taken
        after ``updated_before`` (the client asks for the calibration a job ran with).
        """
        self.catalog.check_calibration(name, calibration_id)
        taken = self.catalog.calibrated_at(name)
        if updated_before is not None and taken is not None and taken > updated_before:
            raise NotFoundError(
                f"Backend {name} has no calibration from before {utc_iso(updated_before)}: its "
                f"one calibration, '{self.catalog.calibration_id(name)}', is from {utc_iso(taken)}."
            )
        return self.catalog.properties_json(name) or b"{}"

    def backend_status(self, name: str) -> dict[str, Any]:
        """A backend's status, with its queue length and its executor's."""
        return self.catalog.status(name, self.scheduler.queue_lengths())

    # -- jobs -------------------------------------------------------------------------------

    async def submit(
        self, owner: str, body: bytes, wait: float = 0.0, inline_result: bool = False
    ) -> dict[str, Any]:
        """Validate, store and queue a job from a raw ``POST /jobs`` body; its id and backend.

        Parsing JSON and decoding circuits take a while for big payloads, so a body larger than
        ``INLINE_SUBMIT_BYTES`` is handled in a thread, off the server's event loop, durable write
        included, and so is the first (whose validation imports Qiskit); a small one costs less
        on the loop than the hand-over to a thread. The answer is sent only after the job is
        stored durably.

        With ``wait`` (the client's ``Prefer: wait=N``), the answer waits up to ``wait`` seconds,
        and at most ``quick_job_wait``, for the job to be final, and then carries its ``state``
        (and with ``inline_result`` its result, as ``result_inline``): a quick job then costs its
        client one request. The answer does not wait when the user has other unfinished jobs, or
        the job is in a batch: jobs submitted one after another without waiting for each are
        meant to run side by side, and each answer comes at once (a loop that waits for each
        result, as an optimizer does, has one unfinished job at a time).
        """
        if self._closed:
            raise ServiceUnavailableError("The server is shutting down and takes no new jobs.")
        if self._validator_warm and len(body) <= INLINE_SUBMIT_BYTES:
            record = self._submit(owner, body)
        else:
            record = await asyncio.to_thread(self._submit, owner, body)
            # The first validation imports the programs (Qiskit and the client's decoders):
            # seconds, which must not block the event loop.
            self._validator_warm = True
        answer: dict[str, Any] = {
            "id": record.id,
            "backend": record.backend,
            "session_id": record.session_id,
        }
        wait = min(wait, self.config.quick_job_wait)
        if (
            wait <= 0
            or self.scheduler.pending(owner) > 1
            or in_batch(self.store, record.session_id)
        ):
            return answer
        try:
            record = await self.watch.until_final(owner, record.id, wait)
        except (WaitLimitError, ServiceUnavailableError):
            return answer  # the job is stored: it must not look refused
        if record.is_final:
            answer.update(final_fields(self.store, owner, record, inline_result))
        return answer

    def _submit(self, owner: str, body: bytes) -> JobRecord:
        """Validate a ``POST /jobs`` body, admit it to its session and store and queue it."""
        request = validated_request(body, self.config.max_payload_bytes, self.catalog)
        if request.session_id:
            self.sessions.admit(owner, request.session_id, request.backend)
        return self.scheduler.submit(owner, request)

    def job(self, owner: str, job_id: str, exclude_params: bool = False) -> dict[str, Any]:
        """One of ``owner``'s jobs."""
        record = self.store.get(job_id, owner)
        params = None if exclude_params else self.store.params(job_id, owner)
        return job_to_api(record, params)

    async def settled_job(self, owner: str, job_id: str, exclude_params: bool) -> dict[str, Any]:
        """``job``, after giving a job younger than ``quick_job_wait`` until then to finish."""
        record = await self.watch.settled(owner, job_id)
        return job_to_api(record, None if exclude_params else self.store.params(job_id, owner))

    async def wait_for_job(
        self,
        owner: str,
        job_id: str,
        timeout: float,
        exclude_params: bool = True,
        inline_result: bool = False,
    ) -> dict[str, Any]:
        """One of ``owner``'s jobs once it is final, or as it is when ``timeout`` passes; with
        ``inline_result``, a completed job's result too (see ``submit``)."""
        record = await self.watch.until_final(owner, job_id, timeout)
        answer = job_to_api(record, None if exclude_params else self.store.params(job_id, owner))
        if inline_result and record.is_final:
            answer.update(final_fields(self.store, owner, record, inline_result))
        return answer

    async def job_changes(
        self, owner: str, since: str | None, timeout: float, limit: int
    ) -> dict[str, Any]:
        """``owner``'s jobs changed after the cursor ``since`` (all, when it is ``None``), each
        once, as it is now, in the order of their latest changes; waiting up to ``timeout``
        seconds for a change when there is none. ``cursor`` is the one to send next; ``more``
        says whether ``limit`` left changed jobs out (ask again at once)."""
        hint = "send the 'cursor' of an earlier answer, or none to start from the beginning"
        after = 0 if since is None else decode_cursor("since", since, "change", hint)
        changed, more = await self.watch.changes(owner, after, timeout, limit)
        return {
            "jobs": [job_to_api(record) for _, record in changed],
            "cursor": encode_cursor("change", changed[-1][0] if changed else after),
            "more": more,
        }

    def jobs(
        self, owner: str, *, limit: int, offset: int, descending: bool = True,
        exclude_params: bool = True, pending: bool | None = None, backend: str | None = None,
        program_id: str | None = None, tags: Sequence[str] = (), session_id: str | None = None,
        created_after: datetime | None = None, created_before: datetime | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A page of ``owner``'s jobs; ``count`` is the number of all jobs the filters select.

        ``tags`` selects jobs that have all of them; the creation bounds are inclusive.
        """
        records, total = list_jobs(
            self.store,
            owner, limit=limit, offset=offset, descending=descending, pending=pending,
            backend=self.catalog.canonical(backend), program_id=program_id, tags=tags,
            session_id=session_id,
            created_after=utc_iso(created_after) if created_after else None,
            created_before=utc_iso(created_before) if created_before else None,
        )  # fmt: skip
        return {
            "jobs": [
                job_to_api(r, None if exclude_params else self.store.params(r.id, owner))
                for r in records
            ],
            "count": total,
            "limit": limit,
            "offset": offset,
        }

    def workloads(
        self, owner: str, *, limit: int, descending: bool = False, mode: str | None = None,
        next_cursor: str | None = None, previous_cursor: str | None = None,
        statuses: frozenset[str] | None = None, backend: str | None = None,
        tags: Sequence[str] = (), search: str | None = None,
        created_after: datetime | None = None, created_before: datetime | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A page of ``owner``'s workloads, IBM's cursor-paged listing of jobs and sessions.

        Every job is a workload of mode ``job`` (jobs run in a session too: a session is listed
        by the session endpoints, not here), so ``mode`` ``session`` or ``batch`` selects none.
        ``next`` and ``previous`` are cursors to the neighbouring pages, or ``None`` at an end.
        """
        filters = JobFilter(
            statuses=statuses, backend=self.catalog.canonical(backend), tags=tuple(tags),
            search=search,
            created_after=utc_iso(created_after) if created_after else None,
            created_before=utc_iso(created_before) if created_before else None,
        )  # fmt: skip
        return workloads_page(
            self.store, owner, filters, INSTANCE, limit=limit, descending=descending, mode=mode,
            next_cursor=next_cursor, previous_cursor=previous_cursor,
        )  # fmt: skip

    def delete_job(self, owner: str, job_id: str) -> None:
        """Delete one of ``owner``'s jobs with its params, result, logs and metrics.

        Only a final job is deleted, as IBM's API requires ("Job must be in a terminal state"):
        a queued or running job is refused with 409 and goes on. Cancelling it as a side effect
        would stop work the user did not ask to stop, and deleting it in place would leave a
        worker computing a result nobody can read. The message says to cancel it first.
        """
        record = self.store.delete_if_final(job_id, owner)
        if not record.is_final:
            raise InvalidStateError(
                f"Job {job_id} is {record.status} and cannot be deleted until it is final; "
                f"cancel it first (POST /jobs/{job_id}/cancel)."
            )

    def update_tags(self, owner: str, job_id: str, body: bytes) -> None:
        """Replace a job's tags from a ``{"tags": [...]}`` body (an empty list clears them)."""
        update = parse_json_body(body, self.config.max_payload_bytes)
        if not isinstance(update, dict) or "tags" not in update:
            raise InvalidRequestError('The request body must be a JSON object {"tags": [...]}.')
        self.store.set_tags(job_id, owner, validate_tags(update["tags"]))

    def results(self, owner: str, job_id: str) -> str:
        """The result text of a finished job: encoded result, or the error for a failed one.

        A failed job's text is its error message, the same as its ``state.reason`` (which the
        client shows first), never a traceback: that holds this server's file paths and code,
        and is in the job's logs (``logs``, its owner's only) and in the server's log.

        A private job's result can be read once, as IBM documents for ``private``: "When set to
        true, input parameters are not returned, and the results can only be read once. After
        the job is completed, input parameters are deleted from the service. After the results
        are read, they are deleted from the service." Reading deletes it; a later read answers
        an empty text, as IBM's does (the client's ``job.result()`` then returns ``None``). A
        failed private job keeps its error text, which the client reads to report the failure
        (as often as it is asked).
        """
        record = self.store.get(job_id, owner)
        if record.private and record.status == COMPLETED:
            return self.store.take_result(job_id, owner) or ""
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
        request = replace(request, backend=self.catalog.resolve(request.backend))
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

"""The scheduler: runs the fair queue's jobs on a thread pool that drives worker processes.

Which job runs next is the ``FairQueue``'s decision (``fair_queue.py``): first-in first-out
within a user, round-robin across users, and per-executor concurrency limits (one job per GPU,
say). Each pool thread takes one job, prepares its ``Task``, borrows a warm worker process, waits
on it, and records the outcome; no simulation runs in this process. A queued job is cancelled at
once; a running one by stopping its worker. On start, jobs left queued by an earlier server run
again, and jobs that were running when it died are rerun (a few times at most, so that a job that
kills its server cannot do so forever) or marked failed with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

from ..execution.task import Task, TaskOutcome
from ..execution.workers import WorkerCancelled, WorkerFailed, WorkerPool
from .catalog import BackendCatalog
from .errors import (
    InvalidStateError,
    QueueLimitError,
    RuntimeServiceError,
    ServiceUnavailableError,
    StoreUnavailableError,
)
from .fair_queue import FairQueue
from .jobs import JobRequest
from .records import CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING, JobRecord, utc_iso, utc_now
from .store import JobStore

#: How many times a job may be started before a server death during it marks it failed.
MAX_ATTEMPTS = 3

#: Reason code IBM uses for a job cancelled because it ran past its maximum execution time.
REASON_RAN_TOO_LONG = 1305


def concurrency_limits(catalog: BackendCatalog) -> dict[str, tuple[str, int]]:
    """The catalog's executor concurrency limits as ``FairQueue`` takes them: executor name to
    (the resource its running jobs hold, how many may hold it at once)."""
    return {
        executor.name: (executor.concurrency_key, executor.max_concurrent_jobs)
        for executor in catalog.executors
        if executor.concurrency_key and executor.max_concurrent_jobs
    }


class JobScheduler:
    """Queues, runs and cancels jobs; owns the job threads and the worker processes."""

    def __init__(
        self,
        *,
        store: JobStore,
        catalog: BackendCatalog,
        pool_size: int,
        worker_memory_limit: int,
        max_pending_per_user: int,
        retention_days: float,
        log: logging.Logger,
        on_activity: Callable[[], None] = lambda: None,
        session_refusal: Callable[[str], str | None] = lambda session_id: None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._pool_size = pool_size
        self._memory_limit = worker_memory_limit
        self._max_pending = max_pending_per_user
        self._retention = timedelta(days=retention_days) if retention_days > 0 else None
        self._log = log
        self._on_activity = on_activity
        self._session_refusal = session_refusal
        self._job_threads = ThreadPoolExecutor(pool_size, thread_name_prefix="qiskit-runtime-job")
        self._workers = WorkerPool(pool_size)
        self._queue = FairQueue(concurrency_limits(catalog))
        # Re-entrant: a future's done-callback may run inside _dispatch, which holds it. Held
        # around the queue's calls where they must be atomic with ``_running`` (cancel, dispatch).
        self._lock = threading.RLock()
        # The started jobs, each with the event that asks it to stop (a cancel).
        self._running: dict[str, threading.Event] = {}
        self._futures: set[Future[None]] = set()
        self._stopping = threading.Event()
        self._last_purge = float("-inf")
        # Submissions come from several threads: a user's pending count is checked and the job
        # stored and queued as one step, so that the limit holds.
        self._submit_lock = threading.Lock()

    # -- public API -------------------------------------------------------------------------

    def start(self) -> None:
        """Recover the jobs an earlier server left unfinished and start running them."""
        for job_id in self._store.ids_in_state(RUNNING):
            record = self._store.get(job_id)
            if record.attempts >= MAX_ATTEMPTS:
                self._store.finish(
                    job_id,
                    FAILED,
                    reason=f"The server stopped {record.attempts} times while this job was "
                    "running; it was not started again.",
                    result="The job was interrupted by server stops and not rerun.",
                )
            else:
                self._store.requeue(
                    job_id, f"{utc_now()} The server stopped while this job ran; queued again."
                )
        for job_id in self._store.ids_in_state(QUEUED):
            record = self._store.get(job_id)
            self._queue.add(job_id, record.owner, record.backend)
        self._purge_expired()
        self._dispatch()

    def submit(self, owner: str, request: JobRequest) -> JobRecord:
        """Store a new job for ``owner`` (durably) and queue it; safe from any thread."""
        if self._stopping.is_set():
            raise ServiceUnavailableError("The server is shutting down and takes no new jobs.")
        record = JobRecord(
            id=uuid.uuid4().hex[:20],
            owner=owner,
            program_id=request.program_id,
            backend=request.backend,
            status=QUEUED,
            created=utc_now(),
            tags=request.tags,
            session_id=request.session_id,
            private=request.private,
            runtime=request.runtime,
            cost=request.cost,
            log_level=request.log_level,
        )
        with self._submit_lock:
            pending = self._queue.pending(owner)
            if self._max_pending and pending >= self._max_pending:
                raise QueueLimitError(
                    f"You already have {pending} unfinished jobs, the most this server allows "
                    f"(QiskitRuntimeApp.max_pending_jobs_per_user). Wait for some to finish or "
                    "cancel them."
                )
            self._store.insert(record, request.params)
            self._queue.add(record.id, owner, record.backend)
        self._dispatch()
        return record

    def cancel(self, job_id: str, owner: str) -> None:
        """Cancel ``owner``'s job: at once if queued, by stopping its worker if running."""
        record = self._store.get(job_id, owner)
        if record.is_final:
            raise InvalidStateError(f"Job {job_id} is {record.status} and cannot be cancelled.")
        with self._lock:
            running = self._running.get(job_id)
            if running is not None:
                running.set()
                return
            self._queue.remove(job_id)
        try:
            self._store.finish(
                job_id, CANCELLED, reason="Cancelled by the user.", only_if=frozenset({QUEUED})
            )
        except StoreUnavailableError:
            with self._lock:  # not cancelled after all (a 503): it waits again, at the end
                self._queue.add(job_id, record.owner, record.backend)
            raise
        self._on_activity()

    def pending(self, owner: str) -> int:
        """How many of ``owner``'s jobs are queued or running."""
        return self._queue.pending(owner)

    def queue_lengths(self) -> dict[str, int]:
        """Unfinished jobs per backend."""
        return self._queue.queue_lengths()

    def position_in_queue(self, job_id: str) -> int | None:
        """1-based position of a queued job among its user's queued jobs; ``None`` otherwise."""
        return self._queue.position_in_queue(job_id)

    def worker_pids(self) -> list[int]:
        """Process ids of the live worker processes."""
        return self._workers.pids()

    def warm_up(self, count: int) -> None:
        """Start worker processes ahead of the first job."""
        threading.Thread(target=self._workers.warm_up, args=(count,), daemon=True).start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking jobs, stop workers, and wait (bounded) for the job threads.

        Running jobs are put back in the queue: the next server start runs them again.
        """
        self._stopping.set()
        self._workers.close(timeout=timeout / 2)
        with self._lock:
            futures = set(self._futures)
        wait(futures, timeout=timeout / 2)
        self._job_threads.shutdown(wait=False, cancel_futures=True)

    # -- internals --------------------------------------------------------------------------

    def _dispatch(self) -> None:
        with self._lock:
            while not self._stopping.is_set() and len(self._running) < self._pool_size:
                job_id = self._queue.start_next()
                if job_id is None:
                    break
                self._running[job_id] = threading.Event()
                try:
                    future = self._job_threads.submit(self._run, job_id)
                except RuntimeError:  # the thread pool was shut down meanwhile
                    self._running.pop(job_id)
                    self._queue.release(job_id)
                    break
                self._futures.add(future)
                future.add_done_callback(self._future_done)

    def _future_done(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run(self, job_id: str) -> None:
        """The body of a job thread: run the job, record any error, then start the next."""
        try:
            self._run_job(job_id)
        except StoreUnavailableError:
            # Its state could not be recorded: it stays as the store last had it (queued or
            # running: run again at the next start) and the real error goes to the log.
            self._log.exception("Job %s: the job store is unavailable", job_id)
        except RuntimeServiceError as exc:  # e.g. its backend is no longer configured
            self._finish_failed(job_id, exc.message)
        except Exception as exc:
            self._log.exception("Job %s failed inside the server", job_id)
            self._finish_failed(job_id, f"Internal error: {exc}")
        finally:
            with self._lock:
                self._running.pop(job_id, None)
                self._queue.release(job_id)
            self._on_activity()
            try:
                self._purge_expired()
            except StoreUnavailableError:
                self._log.exception("Could not delete expired jobs")
            self._dispatch()

    def _finish_failed(self, job_id: str, message: str) -> None:
        """Record the job failed with ``message``, logging instead if the store fails too."""
        try:
            self._store.finish(job_id, FAILED, reason=message, result=message)
        except StoreUnavailableError:
            self._log.exception("Job %s: could not record its failure (%s)", job_id, message)

    def _run_job(self, job_id: str) -> None:
        """Prepare the job's task, run it on a worker, and record the outcome."""
        with self._lock:
            cancelled = self._running[job_id]
        prepared = self._prepare(job_id)
        if prepared is None:
            return
        record, task = prepared
        outcome: TaskOutcome | WorkerCancelled | WorkerFailed | None
        try:
            outcome = self._execute(task, record.cost, cancelled)
        except (WorkerCancelled, WorkerFailed) as exc:
            outcome = exc
        with self._lock:
            # Released before the final write wakes the job's waiters: a client told that the
            # job is final may submit its next one at once without counting this one.
            self._queue.release(job_id)
        self._record(record, outcome, by_user=cancelled.is_set())

    def _prepare(self, job_id: str) -> tuple[JobRecord, Task] | None:
        """Mark the job running and build its task; ``None`` if it must not run (its session
        refuses it, or it is no longer queued)."""
        record, params = self._store.get_with_params(job_id)
        refusal = record.session_id and self._session_refusal(record.session_id)
        if refusal:
            self._store.finish(
                job_id, CANCELLED, reason=f"Not run: {refusal}", only_if=frozenset({QUEUED})
            )
            return None
        if not self._store.mark_running(job_id):
            return None
        self._on_activity()
        task = Task(
            job_id=job_id,
            program_id=record.program_id,
            backend=self._catalog.get(record.backend).recipe(),
            params=params,
            memory_budget=self._memory_limit,
        )
        return record, task

    def _execute(
        self, task: Task, max_seconds: int | None, cancelled: threading.Event
    ) -> TaskOutcome | None:
        """Borrow a worker, run ``task`` on it and wait; ``None`` if the server stopped before a
        worker was free. Raises ``WorkerCancelled`` if the job was cancelled, ran past
        ``max_seconds`` or the server is stopping, and ``WorkerFailed`` if the worker died."""
        try:
            worker = self._workers.acquire()
        except WorkerCancelled:
            return None
        if cancelled.is_set():  # cancelled while waiting for a worker: keep the worker warm
            self._workers.release(worker)
            raise WorkerCancelled("cancelled before it started")
        # The maximum execution time counts from here, not from a worker's start-up.
        deadline = time.monotonic() + max_seconds if max_seconds else None
        last_touch = time.monotonic()

        def on_poll() -> None:
            nonlocal last_touch
            if time.monotonic() - last_touch > 1.0:
                last_touch = time.monotonic()
                self._on_activity()

        def should_stop() -> bool:
            overdue = deadline is not None and time.monotonic() > deadline
            return cancelled.is_set() or self._stopping.is_set() or overdue

        try:
            return worker.run(
                task, should_stop=should_stop, memory_limit=self._memory_limit, on_poll=on_poll
            )
        finally:
            self._workers.release(worker)

    def _record(
        self,
        record: JobRecord,
        outcome: TaskOutcome | WorkerCancelled | WorkerFailed | None,
        *,
        by_user: bool,
    ) -> None:
        """Store how the job ended: its result; or, failed, its error as ``reason`` and as its
        results text (the traceback only in its logs and the server's log); or why it stopped
        (``None``: the server stopped before it ran, so it is queued again)."""
        job_id = record.id
        if outcome is None:
            self._store.requeue(job_id, f"{utc_now()} The server stopped before this job ran.")
        elif isinstance(outcome, WorkerCancelled):
            self._stopped(job_id, record, by_user)
        elif isinstance(outcome, WorkerFailed):
            self._store.finish(job_id, FAILED, reason=str(outcome), result=f"Error: {outcome}")
        elif outcome.ok:
            self._store.finish(
                job_id, COMPLETED, result=outcome.result, logs=outcome.logs, metrics=outcome.metrics
            )
        else:
            # The client sees the error (``state.reason``, and the results text); the traceback,
            # with this server's file paths, is in the job's logs and the server's log only.
            self._log.warning(
                "Job %s of %s failed: %s\n%s",
                job_id,
                record.owner,
                outcome.error,
                outcome.traceback,
            )
            self._store.finish(
                job_id,
                FAILED,
                reason=outcome.error,
                result=outcome.error,
                logs=outcome.logs,
            )

    def _stopped(self, job_id: str, record: JobRecord, by_user: bool) -> None:
        """Record a job stopped on its worker: cancelled, queued again, or run too long."""
        if by_user:
            self._store.finish(job_id, CANCELLED, reason="Cancelled by the user.")
        elif self._stopping.is_set():
            self._store.requeue(
                job_id, f"{utc_now()} The server stopped while this job ran; it will run again."
            )
        else:
            self._store.finish(
                job_id,
                CANCELLED,
                reason=f"The job ran longer than its maximum execution time of {record.cost} s.",
                reason_code=REASON_RAN_TOO_LONG,
                result=f"Job ran longer than the maximum execution time of {record.cost} s.",
            )

    def _purge_expired(self) -> None:
        if self._retention is None or time.monotonic() - self._last_purge < 3600:
            return
        self._last_purge = time.monotonic()
        cutoff = utc_iso(datetime.now(UTC) - self._retention)
        removed = self._store.delete_finished_before(cutoff)
        if removed:
            self._log.info(
                "Deleted %d jobs that finished more than the retention time ago.", removed
            )

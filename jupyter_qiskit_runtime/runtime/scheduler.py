"""The scheduler: a fair queue of jobs, a thread pool that drives worker processes, cancellation.

Jobs run first-in first-out within a user and round-robin across users. Each pool thread takes one
job, borrows a warm worker process, and waits on it; no simulation runs in this process. An
executor may limit how many of its jobs run at once (one per GPU, say): a job whose executor is
at its limit waits, and the next job that can run goes first. A queued job is cancelled at once;
a running one by stopping its worker. On start, jobs left queued by an earlier server run again,
and jobs that were running when it died are rerun (a few times at most, so that a job that kills
its server cannot do so forever) or marked failed with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

from ..execution.workers import WorkerCancelled, WorkerFailed, WorkerPool
from .catalog import BackendCatalog
from .errors import (
    InvalidStateError,
    QueueLimitError,
    RuntimeServiceError,
    ServiceUnavailableError,
)
from .jobs import JobRequest
from .store import (
    CANCELLED,
    COMPLETED,
    FAILED,
    QUEUED,
    RUNNING,
    JobRecord,
    JobStore,
    utc_iso,
    utc_now,
)

#: How many times a job may be started before a server death during it marks it failed.
MAX_ATTEMPTS = 3

#: Reason code IBM uses for a job cancelled because it ran past its maximum execution time.
REASON_RAN_TOO_LONG = 1305


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
        self._executor = ThreadPoolExecutor(pool_size, thread_name_prefix="qiskit-runtime-job")
        self._workers = WorkerPool(pool_size)
        # Re-entrant: a future's done-callback may run inside _dispatch, which holds it.
        self._lock = threading.RLock()
        self._queues: dict[str, deque[str]] = {}
        self._turns: deque[str] = deque()
        self._running: dict[str, threading.Event] = {}
        self._owners: dict[str, str] = {}
        self._backends: dict[str, str] = {}
        self._futures: set[Future[None]] = set()
        # Resources that limit how many jobs of some executors run at once (executor concurrency).
        self._resource_of: dict[str, str] = {}
        self._limits: dict[str, int] = {}
        for spec in catalog.executors:
            if spec.concurrency_key and spec.max_concurrent_jobs:
                key, limit = spec.concurrency_key, spec.max_concurrent_jobs
                self._resource_of[spec.name] = key
                self._limits[key] = min(limit, self._limits.get(key, limit))
        self._holding: dict[str, str] = {}
        self._stopping = threading.Event()
        self._last_purge = float("-inf")

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
            self._enqueue(record.owner, job_id, record.backend)
        self._purge_expired()
        self._dispatch()

    def submit(self, owner: str, request: JobRequest) -> JobRecord:
        """Store a new job for ``owner`` and queue it."""
        if self._stopping.is_set():
            raise ServiceUnavailableError("The server is shutting down and takes no new jobs.")
        with self._lock:
            pending = sum(1 for o in self._owners.values() if o == owner)
        if self._max_pending and pending >= self._max_pending:
            raise QueueLimitError(
                f"You already have {pending} unfinished jobs, the most this server allows "
                f"(QiskitRuntimeApp.max_pending_jobs_per_user). Wait for some to finish or "
                "cancel them."
            )
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
        self._store.insert(record, request.params)
        self._enqueue(owner, record.id, record.backend)
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
            queue = self._queues.get(record.owner)
            if queue is not None and job_id in queue:
                queue.remove(job_id)
                self._forget(job_id)
        self._store.finish(
            job_id, CANCELLED, reason="Cancelled by the user.", only_if=frozenset({QUEUED})
        )
        self._on_activity()

    def queue_lengths(self) -> dict[str, int]:
        """Unfinished jobs per backend."""
        with self._lock:
            counts: dict[str, int] = {}
            for backend in self._backends.values():
                counts[backend] = counts.get(backend, 0) + 1
            return counts

    def position_in_queue(self, job_id: str) -> int | None:
        """1-based position of a queued job among its user's queued jobs; ``None`` otherwise."""
        with self._lock:
            for queue in self._queues.values():
                if job_id in queue:
                    return list(queue).index(job_id) + 1
        return None

    @property
    def busy(self) -> bool:
        """Whether any job is queued or running."""
        with self._lock:
            return bool(self._owners)

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
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- internals --------------------------------------------------------------------------

    def _enqueue(self, owner: str, job_id: str, backend: str) -> None:
        with self._lock:
            self._owners[job_id] = owner
            self._backends[job_id] = backend
            if owner not in self._queues:
                self._queues[owner] = deque()
                self._turns.append(owner)
            self._queues[owner].append(job_id)

    def _forget(self, job_id: str) -> None:
        self._owners.pop(job_id, None)
        self._backends.pop(job_id, None)

    def _resource(self, job_id: str) -> str | None:
        """The limited resource a job's executor holds while it runs, if any."""
        return self._resource_of.get(self._backends.get(job_id, "").rpartition("@")[2])

    def _can_start(self, job_id: str) -> bool:
        resource = self._resource(job_id)
        if resource is None:
            return True
        held = sum(1 for r in self._holding.values() if r == resource)
        return held < self._limits[resource]

    def _next_job(self) -> str | None:
        """The next job in round-robin order across users, skipping jobs whose executor is at
        its concurrency limit (their user keeps its turn); call with the lock held."""
        for owner in [o for o in self._turns if not self._queues.get(o)]:
            self._turns.remove(owner)  # a user whose queued jobs were all cancelled
            self._queues.pop(owner, None)
        for turn, owner in enumerate(self._turns):
            queue = self._queues[owner]
            job_id = next((j for j in queue if self._can_start(j)), None)
            if job_id is None:
                continue
            queue.remove(job_id)
            del self._turns[turn]
            if queue:
                self._turns.append(owner)
            else:
                del self._queues[owner]
            resource = self._resource(job_id)
            if resource is not None:
                self._holding[job_id] = resource
            return job_id
        return None

    def _dispatch(self) -> None:
        with self._lock:
            while not self._stopping.is_set() and len(self._running) < self._pool_size:
                job_id = self._next_job()
                if job_id is None:
                    break
                self._running[job_id] = threading.Event()
                try:
                    future = self._executor.submit(self._run, job_id)
                except RuntimeError:  # the executor was shut down meanwhile
                    self._running.pop(job_id)
                    self._holding.pop(job_id, None)
                    break
                self._futures.add(future)
                future.add_done_callback(self._future_done)

    def _future_done(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run(self, job_id: str) -> None:
        try:
            self._run_job(job_id)
        except RuntimeServiceError as exc:  # e.g. its backend is no longer configured
            self._store.finish(job_id, FAILED, reason=exc.message, result=exc.message)
        except Exception as exc:
            self._log.exception("Job %s failed inside the server", job_id)
            self._store.finish(
                job_id, FAILED, reason=f"Internal error: {exc}", result=f"Internal error: {exc}"
            )
        finally:
            with self._lock:
                self._running.pop(job_id, None)
                self._holding.pop(job_id, None)
                self._forget(job_id)
            self._on_activity()
            self._purge_expired()
            self._dispatch()

    def _run_job(self, job_id: str) -> None:
        with self._lock:
            cancelled = self._running[job_id]
        record = self._store.get(job_id)
        refusal = record.session_id and self._session_refusal(record.session_id)
        if refusal:
            self._store.finish(
                job_id, CANCELLED, reason=f"Not run: {refusal}", only_if=frozenset({QUEUED})
            )
            return
        if not self._store.mark_running(job_id):
            return
        self._on_activity()
        task = {
            "job_id": job_id,
            "program_id": record.program_id,
            "backend": self._catalog.get(record.backend).spec(),
            "params": self._store.params(job_id),
            "memory_budget": self._memory_limit,
        }
        try:
            worker = self._workers.acquire()
        except WorkerCancelled:
            self._store.requeue(job_id, f"{utc_now()} The server stopped before this job ran.")
            return
        if cancelled.is_set():  # cancelled while waiting for a worker: keep the worker warm
            self._workers.release(worker)
            self._stopped(job_id, record, by_user=True)
            return
        # The maximum execution time counts from here, not from a worker's start-up.
        deadline = time.monotonic() + record.cost if record.cost else None
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
            outcome = worker.run(
                task, should_stop=should_stop, memory_limit=self._memory_limit, on_poll=on_poll
            )
        except WorkerCancelled:
            self._stopped(job_id, record, cancelled.is_set())
            return
        except WorkerFailed as exc:
            self._store.finish(job_id, FAILED, reason=str(exc), result=f"Error: {exc}")
            return
        finally:
            self._workers.release(worker)
        if outcome.ok:
            self._store.finish(
                job_id, COMPLETED, result=outcome.result, logs=outcome.logs, metrics=outcome.metrics
            )
        else:
            self._store.finish(
                job_id,
                FAILED,
                reason=outcome.error,
                result=outcome.traceback,
                logs=outcome.logs,
            )

    def _stopped(self, job_id: str, record: JobRecord, by_user: bool) -> None:
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

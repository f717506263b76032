"""Worker processes: where every simulation runs, outside the Jupyter server's process.

Qiskit Aer holds the GIL for a whole simulation, so running one in the server would freeze Jupyter.
Each job thread borrows a warm worker process (spawned, so no server state is inherited), sends it
one task over a pipe and waits, polling the process so that it can

- stop it at once when the job is cancelled or the server shuts down,
- kill it when its resident memory passes the limit (address space is not limited: an idle Aer
  worker maps 1.6 GB of virtual memory),
- notice a crash and fail only that job.

A worker that was killed or crashed is discarded; the next job starts a fresh one.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import psutil

from .task import Task, TaskOutcome

#: How often a waiting job thread checks cancellation, memory and liveness.
POLL_SECONDS = 0.05


class WorkerCancelled(Exception):
    """The task was stopped because its job was cancelled or the server is stopping."""


class WorkerFailed(Exception):
    """The worker process died or was killed before it answered; the message says why."""


def worker_main(conn: Connection) -> None:
    """Entry point of a worker process: answer tasks until the pipe closes."""
    from .programs import ProgramRunner, preload, run_task

    preload()
    runner = ProgramRunner()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(run_task(task, runner))


class WorkerProcess:
    """One spawned worker process and the pipe to it."""

    def __init__(self, context: Any) -> None:
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=worker_main, args=(child_conn,), daemon=True, name="qiskit-runtime-worker"
        )
        self._process.start()
        child_conn.close()
        self._ps = psutil.Process(self._process.pid)

    @property
    def pid(self) -> int:
        """The operating-system process id."""
        return int(self._process.pid)

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return bool(self._process.is_alive())

    def rss(self) -> int:
        """Resident memory in bytes (0 if the process is gone)."""
        try:
            return int(self._ps.memory_info().rss)
        except psutil.Error:
            return 0

    def run(
        self,
        task: Task,
        *,
        should_stop: Callable[[], bool],
        memory_limit: int,
        on_poll: Callable[[], None] = lambda: None,
    ) -> TaskOutcome:
        """Send ``task`` and wait for the answer, stopping the process if need be."""
        try:
            self._conn.send(task)
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise WorkerFailed(f"The worker process could not take the job: {exc}") from exc
        while True:
            if self._conn.poll(POLL_SECONDS):
                try:
                    answer = self._conn.recv()
                except (EOFError, OSError):
                    answer = None
                if isinstance(answer, TaskOutcome):
                    return answer
            on_poll()
            if should_stop():
                self.kill()
                raise WorkerCancelled("stopped")
            if not self.alive:
                code = self._process.exitcode
                raise WorkerFailed(
                    f"The simulation's worker process died unexpectedly (exit code {code}). "
                    "The job may need more memory than the machine has, or the simulator crashed."
                )
            rss = self.rss()
            if memory_limit and rss > memory_limit:
                self.kill()
                raise WorkerFailed(
                    f"The simulation used {rss / 2**20:.0f} MiB of memory, more than the worker "
                    f"limit of {memory_limit / 2**20:.0f} MiB, and was stopped. Use fewer qubits "
                    "or raise QiskitRuntimeApp.worker_memory_limit."
                )

    def stop_process(self) -> None:
        """Kill the process but leave the pipe to the thread that waits on it."""
        if self._process.is_alive():
            self._process.kill()

    def kill(self) -> None:
        """Stop the process now and reap it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)
        self._conn.close()

    def close(self) -> None:
        """Ask the process to exit by closing its pipe; kill it if it does not."""
        self._conn.close()
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)


class WorkerPool:
    """Warm worker processes, started lazily and kept for reuse.

    A job thread ``acquire``s a worker, runs one task and ``release``s it (or discards it when the
    process was killed). At most ``size`` workers exist at once, one per job thread.
    """

    def __init__(self, size: int) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._size = size
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._closed = False

    def acquire(self) -> WorkerProcess:
        """A warm worker, or a newly spawned one."""
        with self._lock:
            if self._closed:
                raise WorkerCancelled("the worker pool is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    self._busy.add(worker)
                    return worker
        worker = WorkerProcess(self._context)
        with self._lock:
            if self._closed:
                worker.kill()
                raise WorkerCancelled("the worker pool is closed")
            self._busy.add(worker)
        return worker

    def release(self, worker: WorkerProcess) -> None:
        """Give a worker back: kept warm if it is alive, else forgotten."""
        with self._lock:
            self._busy.discard(worker)
            if worker.alive and not self._closed and len(self._idle) < self._size:
                self._idle.append(worker)
                return
        worker.close() if worker.alive else worker.kill()

    def warm_up(self, count: int) -> None:
        """Start ``count`` idle workers ahead of the first job (they load Qiskit meanwhile)."""
        with self._lock:
            missing = min(count, self._size) - len(self._idle) - len(self._busy)
        for _ in range(max(missing, 0)):
            self.release(WorkerProcess(self._context))

    def pids(self) -> list[int]:
        """Process ids of every live worker, idle or busy."""
        with self._lock:
            return [w.pid for w in [*self._idle, *self._busy] if w.alive]

    def close(self, timeout: float = 5.0) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed.

        A busy worker's pipe stays open: the job thread waiting on it sees the process gone and
        cleans up (the scheduler has already told it to stop, so its job is requeued, not failed).
        """
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        deadline = time.monotonic() + timeout
        for worker in busy:
            worker.stop_process()
        for worker in idle:
            if time.monotonic() > deadline:
                worker.kill()
            else:
                worker.close()

"""The fair queue: which unfinished job runs next, round-robin across users.

Jobs of one user start first-in first-out; users take turns. An executor may limit how many of
its jobs run at once (one per GPU, say) through a shared *resource*: a job whose resource is at
its limit is skipped, and its user keeps its turn, so the next job that can start goes first.

``FairQueue`` is plain data and decisions: no threads, processes or store. It knows the unfinished
jobs, queued and started, by id, owner and backend name (``<metadata>@<executor>``). Its methods
take an internal lock, so it is safe to call from several threads.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping

__all__ = ["FairQueue"]


class FairQueue:
    """Unfinished jobs in round-robin order across users, with per-executor concurrency limits.

    A job is ``add``-ed when submitted, leaves the queue when ``start_next`` picks it (or
    ``remove`` cancels it) and is forgotten when ``release``-d after it ends.
    """

    def __init__(self, limits: Mapping[str, tuple[str, int]] | None = None) -> None:
        """``limits`` maps an executor name to the resource its running jobs hold and how many
        may hold it at once; executors that share a resource share the smallest limit."""
        self._lock = threading.Lock()
        #: Queued jobs per user, in order; a user keeps an (empty) entry until its next turn.
        self._queues: dict[str, deque[str]] = {}
        #: Users in the order of their turns.
        self._turns: deque[str] = deque()
        #: Owner, backend and limited resource (if any) of every unfinished job.
        self._owners: dict[str, str] = {}
        self._backends: dict[str, str] = {}
        self._resources: dict[str, str] = {}
        #: Started jobs that hold a limited resource, and the resource.
        self._holding: dict[str, str] = {}
        self._resource_of: dict[str, str] = {}
        self._limits: dict[str, int] = {}
        for executor, (resource, limit) in (limits or {}).items():
            self._resource_of[executor] = resource
            self._limits[resource] = min(limit, self._limits.get(resource, limit))

    def add(self, job_id: str, owner: str, backend: str) -> None:
        """Queue ``owner``'s job at the end of their queue; a new user takes the last turn."""
        with self._lock:
            if job_id in self._owners:
                raise ValueError(f"Job {job_id} is already in the queue.")
            self._owners[job_id] = owner
            self._backends[job_id] = backend
            resource = self._resource_of.get(backend.rpartition("@")[2])
            if resource is not None:
                self._resources[job_id] = resource
            if owner not in self._queues:
                self._queues[owner] = deque()
                self._turns.append(owner)
            self._queues[owner].append(job_id)

    def start_next(self) -> str | None:
        """Take the next job that may start, mark it started, and return its id.

        Users are visited in turn order; within a user, jobs in submission order. A job whose
        resource is at its limit is skipped (its user keeps its turn). The chosen user's turn
        moves to the end. Users whose queued jobs were all removed lose their turn here.
        ``None`` if no queued job may start now.
        """
        with self._lock:
            for owner in [o for o in self._turns if not self._queues.get(o)]:
                self._turns.remove(owner)
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
                resource = self._resources.get(job_id)
                if resource is not None:
                    self._holding[job_id] = resource
                return job_id
            return None

    def remove(self, job_id: str) -> bool:
        """Take a queued job out (it was cancelled) and forget it; false if it is not queued.

        A user whose queue this empties keeps its turn until the next ``start_next``: a job the
        user adds before then takes that turn.
        """
        with self._lock:
            queue = self._queues.get(self._owners.get(job_id, ""))
            if queue is None or job_id not in queue:
                return False
            queue.remove(job_id)
            self._forget(job_id)
            return True

    def release(self, job_id: str) -> None:
        """Forget a started job that ended, freeing its resource; unknown ids are ignored."""
        with self._lock:
            self._holding.pop(job_id, None)
            self._forget(job_id)

    def position_in_queue(self, job_id: str) -> int | None:
        """1-based position of a queued job among its user's queued jobs; ``None`` otherwise."""
        with self._lock:
            queue = self._queues.get(self._owners.get(job_id, ""))
            if queue is None or job_id not in queue:
                return None
            return list(queue).index(job_id) + 1

    def queue_lengths(self) -> dict[str, int]:
        """Unfinished (queued or started) jobs per backend name."""
        with self._lock:
            counts: dict[str, int] = {}
            for backend in self._backends.values():
                counts[backend] = counts.get(backend, 0) + 1
            return counts

    def pending(self, owner: str) -> int:
        """How many unfinished (queued or started) jobs ``owner`` has."""
        with self._lock:
            return sum(1 for o in self._owners.values() if o == owner)

    # -- internals, called with the lock held ----------------------------------------------

    def _can_start(self, job_id: str) -> bool:
        resource = self._resources.get(job_id)
        if resource is None:
            return True
        held = sum(1 for r in self._holding.values() if r == resource)
        return held < self._limits[resource]

    def _forget(self, job_id: str) -> None:
        self._owners.pop(job_id, None)
        self._backends.pop(job_id, None)
        self._resources.pop(job_id, None)

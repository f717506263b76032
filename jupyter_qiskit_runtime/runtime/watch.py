"""Waiting for jobs on the event loop: until one is final, and for a user's next job changes.

Three waits, each bounded, none holding a thread:

- ``until_final``: ``GET /jobs/{id}/wait``, until the job is final or the timeout passes;
- ``settled``: ``GET /jobs/{id}`` of a job submitted less than ``quick_job_wait`` seconds ago
  waits until it is final or that old, so that the unmodified client finds a quick job final on
  its first status request instead of polling again half a second later;
- ``changes``: ``GET /jobs/changes``, a user's jobs changed after a cursor, waiting for the next
  change while there is none.

Each registers its wait with ``JobEvents`` first, then reads the store, and then waits for the
change, so that no change slips in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import ServiceUnavailableError, WaitLimitError
from .events import JobEvents
from .listing import list_changes
from .records import JobRecord
from .store import JobStore

#: The longest wait a request may ask for, in seconds.
MAX_WAIT_SECONDS = 60.0
#: Seconds ``GET /jobs/{id}/wait`` waits when the request gives no ``timeout``.
DEFAULT_WAIT_SECONDS = 30.0
#: Seconds ``GET /jobs/changes`` waits for a change when the request gives no ``timeout``: none.
DEFAULT_CHANGES_WAIT_SECONDS = 0.0


class JobWatch:
    """Waits for jobs to change, on the event loop, for the handlers."""

    def __init__(
        self,
        store: JobStore,
        events: JobEvents,
        quick_job_wait: float,
        is_closed: Callable[[], bool],
    ) -> None:
        self._store = store
        self._events = events
        self._quick_job_wait = max(quick_job_wait, 0.0)
        self._is_closed = is_closed

    def _check_open(self) -> None:
        if self._is_closed() or self._events.closed:
            raise ServiceUnavailableError("The server is shutting down.")

    async def until_final(self, owner: str, job_id: str, timeout: float) -> JobRecord:
        """``owner``'s job once it is final, or as it is after ``timeout`` seconds (at most
        ``MAX_WAIT_SECONDS``); 404 if it is not ``owner``'s, 503 if the server stops meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        while True:
            self._check_open()
            try:
                waiter = self._events.register(owner, job_id)
            except WaitLimitError:
                # As many wait as may: a job that needs no wait is still answered.
                record = self._store.get(job_id, owner)
                if record.is_final or deadline - loop.time() <= 0:
                    return record
                raise
            with waiter:
                record = self._store.get(job_id, owner)
                remaining = deadline - loop.time()
                if record.is_final or remaining <= 0:
                    return record
                await waiter.wait(remaining)

    async def settled(self, owner: str, job_id: str) -> JobRecord:
        """``owner``'s job; if it is not final and was submitted less than ``quick_job_wait``
        seconds ago, once it is final or that old, whichever comes first.

        When too many requests wait already, it answers at once instead.
        """
        record = self._store.get(job_id, owner)
        if record.is_final or not self._quick_job_wait:
            return record
        created = datetime.fromisoformat(record.created)
        age = max((datetime.now(UTC) - created).total_seconds(), 0.0)  # a clock set back: 0
        if age >= self._quick_job_wait:
            return record
        try:
            return await self.until_final(owner, job_id, self._quick_job_wait - age)
        except WaitLimitError:
            return self._store.get(job_id, owner)

    async def changes(
        self, owner: str, after: int, timeout: float, limit: int
    ) -> tuple[list[tuple[int, JobRecord]], bool]:
        """``owner``'s jobs changed after change number ``after`` (see ``list_changes``); if none
        has, the first that change within ``timeout`` seconds (at most ``MAX_WAIT_SECONDS``), or
        none when it passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        while True:
            self._check_open()
            if deadline - loop.time() <= 0:  # no wait: no waiter, and no waiter limit
                return list_changes(self._store, owner, after, limit)
            with self._events.register(owner) as waiter:
                changed, more = list_changes(self._store, owner, after, limit)
                remaining = deadline - loop.time()
                if changed or remaining <= 0:
                    return changed, more
                await waiter.wait(remaining)

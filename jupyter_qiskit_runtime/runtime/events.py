"""Waking requests that wait for jobs to change: asyncio futures, woken from the job threads.

The store calls ``JobEvents.notify`` after it commits a change to a job, from whichever thread
made it (a job thread of the scheduler, or the event loop itself). Waiters are asyncio futures on
the server's event loop, kept per job and per owner; ``notify`` hands the wake-up to that loop with
``call_soon_threadsafe``. No thread is held for a waiter, and the loop never blocks on one.

A waiter reads the state it waits for and then registers, within one step of the event loop: a
change committed after the read is delivered by a callback that runs after the registration, so no
change is missed between the two. Waiters are bounded (in all, and per owner), each is removed when
it is woken or times out, and ``close`` wakes them all when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib

from .errors import WaitLimitError

#: Waiters the server keeps at once, over all users.
MAX_WAITERS = 1000

#: Waiters one user may have at once (each is an open HTTP request).
MAX_WAITERS_PER_OWNER = 64


class JobEvents:
    """Futures waiting for a job, or for any of an owner's jobs, to change."""

    def __init__(
        self, max_waiters: int = MAX_WAITERS, max_per_owner: int = MAX_WAITERS_PER_OWNER
    ) -> None:
        self._max_waiters = max_waiters
        self._max_per_owner = max_per_owner
        # Written by the event loop only; notify() reads it from other threads.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._by_job: dict[str, set[asyncio.Future[None]]] = {}
        self._by_owner: dict[str, set[asyncio.Future[None]]] = {}
        self._per_owner: dict[str, int] = {}

    @property
    def waiting(self) -> int:
        """How many waiters there are now."""
        return sum(self._per_owner.values())

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called: waits then return at once."""
        return self._closed

    def notify(self, job_id: str, owner: str) -> None:
        """A change to ``owner``'s job ``job_id`` was committed; safe from any thread."""
        loop = self._loop
        if loop is None:  # nobody ever waited
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(self._wake, job_id, owner)

    async def wait(self, owner: str, timeout: float, job_id: str | None = None) -> bool:
        """Wait at most ``timeout`` seconds for a change to ``job_id``, or to any of ``owner``'s
        jobs when ``job_id`` is ``None``; whether one came.

        Check the state first, in the same step of the event loop (no ``await`` in between).
        ``WaitLimitError`` when the server or the owner already has as many waiters as allowed.
        """
        if self._closed or timeout <= 0:
            return False
        mine = self._per_owner.get(owner, 0)
        if self.waiting >= self._max_waiters or mine >= self._max_per_owner:
            raise WaitLimitError(
                "Too many requests are waiting for job changes already; ask again without waiting "
                "(timeout=0) or later."
            )
        loop = asyncio.get_running_loop()
        self._loop = loop
        future: asyncio.Future[None] = loop.create_future()
        table, key = (self._by_owner, owner) if job_id is None else (self._by_job, job_id)
        table.setdefault(key, set()).add(future)
        self._per_owner[owner] = self._per_owner.get(owner, 0) + 1
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            waiters = table.get(key)
            if waiters is not None:
                waiters.discard(future)
                if not waiters:
                    del table[key]
            left = self._per_owner[owner] - 1
            if left:
                self._per_owner[owner] = left
            else:
                del self._per_owner[owner]

    def close(self) -> None:
        """Wake every waiter and make later waits return at once; safe from any thread."""
        self._closed = True
        loop = self._loop
        if loop is None:
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._wake_all()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_all)

    # -- on the event loop ------------------------------------------------------------------

    def _wake(self, job_id: str, owner: str) -> None:
        for future in (*self._by_job.get(job_id, ()), *self._by_owner.get(owner, ())):
            if not future.done():
                future.set_result(None)

    def _wake_all(self) -> None:
        for table in (self._by_job, self._by_owner):
            for waiters in table.values():
                for future in waiters:
                    if not future.done():
                        future.set_result(None)

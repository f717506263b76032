"""Waking requests that wait for jobs to change: asyncio futures, woken from the job threads.

The store calls ``JobEvents.notify`` after it commits a change to a job, from whichever thread
made it (a job thread of the scheduler, or the event loop itself). Waiters are asyncio futures on
the server's event loop, kept per job and per owner; ``notify`` hands the wake-up to that loop with
``call_soon_threadsafe``. No thread is held for a waiter, and the loop never blocks on one.

A waiter registers first (``register``) and then reads the state it waits for: a change committed
before the registration is in what it reads, and a change committed after it finds the waiter
registered. So ``notify`` hands nothing to the loop for a job nobody waits for (most changes: a job
is stored, starts and ends, three changes, while a client waits for one), which spares the loop a
wake-up and the writing thread a system call. Waiters are bounded (in all, and per owner), each is
removed when it is woken or times out, and ``close`` wakes them all when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

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
        # Membership tests of dicts the loop changes are atomic; a waiter that registers after
        # this test reads the change itself (see the module's docstring).
        if loop is None or (job_id not in self._by_job and owner not in self._by_owner):
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(self._wake, job_id, owner)

    def register(self, owner: str, job_id: str | None = None) -> Waiter:
        """Register a waiter for a change to ``job_id``, or to any of ``owner``'s jobs when it
        is ``None``, on the running loop; then read the state, then ``await waiter.wait(...)``,
        and close it (it is a context manager).

        ``WaitLimitError`` when the server or the owner already has as many waiters as allowed.
        """
        if self._closed:
            return Waiter(None, lambda: None)
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
        self._per_owner[owner] = mine + 1

        def unregister() -> None:
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

        return Waiter(future, unregister)

    async def wait(self, owner: str, timeout: float, job_id: str | None = None) -> bool:
        """Wait at most ``timeout`` seconds for a change to ``job_id``, or to any of ``owner``'s
        jobs when ``job_id`` is ``None``; whether one came. (Use ``watching`` to read state
        that the change would alter: a change before this call is not reported.)

        ``WaitLimitError`` when the server or the owner already has as many waiters as allowed.
        """
        if self._closed or timeout <= 0:
            return False
        with self.register(owner, job_id) as waiter:
            return await waiter.wait(timeout)

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


class Waiter:
    """One registered wait (``JobEvents.register``); a context manager that unregisters it."""

    def __init__(self, future: asyncio.Future[None] | None, unregister: Callable[[], None]) -> None:
        self._future = future
        self._unregister: Callable[[], None] | None = unregister

    def __enter__(self) -> Waiter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Unregister the wait (once)."""
        unregister, self._unregister = self._unregister, None
        if unregister is not None:
            unregister()

    async def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the change; whether it came (or came before)."""
        if self._future is None or timeout <= 0:
            return self._future is not None and self._future.done()
        try:
            await asyncio.wait_for(self._future, timeout)
            return True
        except TimeoutError:
            return False

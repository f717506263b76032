"""The pieces under the waiting endpoints: ``JobEvents`` and the store's change counter."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from jupyter_qiskit_runtime.runtime.errors import WaitLimitError
from jupyter_qiskit_runtime.runtime.events import JobEvents
from jupyter_qiskit_runtime.runtime.listing import list_changes
from jupyter_qiskit_runtime.runtime.records import COMPLETED, QUEUED, JobRecord, utc_now
from jupyter_qiskit_runtime.runtime.store import JobStore


def record(job_id: str, owner: str = "alice") -> JobRecord:
    """A queued sampler job."""
    return JobRecord(job_id, owner, "sampler", "fake_manila@aer", QUEUED, utc_now())


def from_thread(action: object) -> None:
    """Run ``action()`` in another thread, as a job thread changes a job."""
    assert callable(action)
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


# -- JobEvents ------------------------------------------------------------------------------------


def test_a_change_from_another_thread_wakes_its_waiters_only() -> None:
    """A change to a job wakes the waiters of that job and of its owner, not those of another
    job or owner; each waiter is removed when it ends."""

    async def scenario() -> None:
        events = JobEvents()
        waits = {
            "job": asyncio.ensure_future(events.wait("alice", 30, job_id="j1")),
            "owner": asyncio.ensure_future(events.wait("alice", 30)),
            "other job": asyncio.ensure_future(events.wait("alice", 0.3, job_id="j2")),
            "other owner": asyncio.ensure_future(events.wait("bob", 0.3)),
        }
        await asyncio.sleep(0)
        assert events.waiting == 4
        from_thread(lambda: events.notify("j1", "alice"))
        outcome = {name: await wait for name, wait in waits.items()}
        assert outcome == {"job": True, "owner": True, "other job": False, "other owner": False}
        assert events.waiting == 0

    asyncio.run(scenario())


def test_waiters_are_bounded_per_owner_and_in_all() -> None:
    """Beyond the limits a wait is refused with ``WaitLimitError``; ended waits free their place."""

    async def scenario() -> None:
        events = JobEvents(max_waiters=3, max_per_owner=2)
        alice = [asyncio.ensure_future(events.wait("alice", 30)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(WaitLimitError):
            await events.wait("alice", 30)
        bob = asyncio.ensure_future(events.wait("bob", 30))
        await asyncio.sleep(0)
        with pytest.raises(WaitLimitError):
            await events.wait("carol", 30)
        events.notify("any", "alice")
        assert await asyncio.gather(*alice) == [True, True]
        assert events.waiting == 1
        assert await events.wait("carol", 0.01) is False
        events.notify("any", "bob")
        assert await bob is True
        assert events.waiting == 0

    asyncio.run(scenario())


def test_close_wakes_every_waiter_and_later_waits_return_at_once() -> None:
    """``close`` (from any thread) ends every wait; a wait after it does not wait."""

    async def scenario() -> None:
        events = JobEvents()
        waits = [
            asyncio.ensure_future(events.wait("alice", 30, job_id="j1")),
            asyncio.ensure_future(events.wait("bob", 30)),
        ]
        await asyncio.sleep(0)
        from_thread(events.close)
        assert await asyncio.gather(*waits) == [True, True]
        assert events.closed and events.waiting == 0
        assert await events.wait("alice", 30) is False

    asyncio.run(scenario())


def test_notify_without_waiters_or_after_the_loop_closed_is_harmless() -> None:
    """Nobody ever waited, or the event loop is gone: ``notify`` does nothing."""
    events = JobEvents()
    events.notify("j1", "alice")
    asyncio.run(events.wait("alice", 0.01))
    events.notify("j1", "alice")  # the loop that waited is closed now


# -- the change counter ---------------------------------------------------------------------------


def test_every_change_gets_a_new_number_that_survives_reopening(tmp_path: Path) -> None:
    """Submitting, starting, finishing and retagging a job each give it the next number, and
    call ``on_change`` with its owner after the commit; numbers keep growing after a reopen
    and after the job with the highest one is deleted, so a cursor never misses a change."""
    path = tmp_path / "jobs.sqlite3"
    seen: list[tuple[str, str]] = []
    store = JobStore(path, on_change=lambda job_id, owner: seen.append((job_id, owner)))
    store.insert(record("a1"), "{}")
    store.insert(record("b1", owner="bob"), "{}")
    assert store.mark_running("a1")
    assert store.finish("a1", COMPLETED, result="{}")
    assert not store.finish("a1", COMPLETED)  # not pending any more: no change
    store.set_tags("b1", "bob", ["x"])
    assert seen == [("a1", "alice"), ("b1", "bob"), ("a1", "alice"), ("a1", "alice"),
                    ("b1", "bob")]  # fmt: skip
    changed, more = list_changes(store, "alice", 0, 10)
    assert [(n, r.id, r.status) for n, r in changed] == [(4, "a1", COMPLETED)]
    assert more is False
    assert [n for n, _ in list_changes(store, "bob", 0, 10)[0]] == [5]
    assert list_changes(store, "alice", 4, 10) == ([], False)
    store.delete_if_final("a1", "alice")
    store.close()

    reopened = JobStore(path)
    try:
        reopened.insert(record("a2"), "{}")
        assert [(n, r.id) for n, r in list_changes(reopened, "alice", 4, 10)[0]] == [(6, "a2")]
    finally:
        reopened.close()


def test_jobs_of_an_older_schema_get_change_numbers(tmp_path: Path) -> None:
    """A database from before the change counter is migrated: its jobs are listed as changes in
    the order they were submitted, and new changes are numbered after them."""
    import sqlite3

    from jupyter_qiskit_runtime.runtime.store import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute("PRAGMA user_version=2")
        for job_id in ("o1", "o2"):
            db.execute(
                "INSERT INTO jobs (id, owner, program_id, backend, status, params, created) "
                "VALUES (?, 'alice', 'sampler', 'fake_manila@aer', 'Completed', '{}', ?)",
                (job_id, utc_now()),
            )
    store = JobStore(path)
    try:
        assert [(n, r.id) for n, r in list_changes(store, "alice", 0, 10)[0]] == [
            (1, "o1"),
            (2, "o2"),
        ]
        store.insert(record("n1"), "{}")
        assert [(n, r.id) for n, r in list_changes(store, "alice", 2, 10)[0]] == [(3, "n1")]
    finally:
        store.close()

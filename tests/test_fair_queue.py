"""The fair queue on its own: round-robin order, concurrency limits, cancel, positions, counts.

No server, store, catalog or process: ``FairQueue`` is plain data.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jupyter_qiskit_runtime.runtime.fair_queue import FairQueue
from jupyter_qiskit_runtime.runtime.scheduler import concurrency_limits

#: One GPU executor that runs one job at a time; ``aer`` is unlimited.
ONE_GPU = {"gpu": ("gpu:0", 1)}


def drain(queue: FairQueue) -> list[str]:
    """Start jobs until none may start; the order they started in."""
    started = []
    while (job_id := queue.start_next()) is not None:
        started.append(job_id)
    return started


def test_round_robin_across_users_fifo_within_each() -> None:
    queue = FairQueue()
    for job_id in ["a1", "a2", "a3"]:
        queue.add(job_id, "alice", "fake_manila@aer")
    for job_id in ["b1", "b2"]:
        queue.add(job_id, "bob", "fake_manila@aer")
    queue.add("c1", "carol", "fake_manila@aer")
    assert drain(queue) == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_new_user_takes_the_last_turn_and_jobs_added_later_queue_behind() -> None:
    queue = FairQueue()
    queue.add("a1", "alice", "x@aer")
    queue.add("a2", "alice", "x@aer")
    assert queue.start_next() == "a1"
    queue.add("b1", "bob", "x@aer")
    queue.add("a3", "alice", "x@aer")
    assert drain(queue) == ["a2", "b1", "a3"]


def test_empty_queue_starts_nothing() -> None:
    assert FairQueue().start_next() is None


def test_a_job_at_its_executors_limit_is_skipped_until_released() -> None:
    queue = FairQueue(ONE_GPU)
    queue.add("a1", "alice", "fake_manila@gpu")
    queue.add("a2", "alice", "fake_manila@gpu")
    queue.add("a3", "alice", "fake_manila@aer")
    assert drain(queue) == ["a1", "a3"]  # a2 waits for the GPU, a3 overtakes it
    queue.release("a1")
    assert drain(queue) == ["a2"]
    assert drain(queue) == []


def test_a_user_whose_jobs_are_all_blocked_keeps_the_turn() -> None:
    queue = FairQueue(ONE_GPU)
    queue.add("c1", "carol", "x@gpu")
    assert queue.start_next() == "c1"  # holds the GPU
    queue.add("a1", "alice", "x@gpu")
    queue.add("b1", "bob", "x@aer")
    queue.add("b2", "bob", "x@aer")
    assert queue.start_next() == "b1"  # alice is skipped but keeps her turn ...
    queue.release("c1")
    assert drain(queue) == ["a1", "b2"]  # ... so she goes before bob's second job


def test_executors_sharing_a_resource_share_the_smallest_limit() -> None:
    queue = FairQueue({"fast": ("gpu:0", 2), "exact": ("gpu:0", 1), "other": ("gpu:1", 2)})
    queue.add("f1", "alice", "x@fast")
    queue.add("e1", "alice", "x@exact")
    queue.add("o1", "alice", "x@other")
    queue.add("o2", "alice", "x@other")
    queue.add("o3", "alice", "x@other")
    assert drain(queue) == ["f1", "o1", "o2"]
    queue.release("o1")
    assert drain(queue) == ["o3"]
    queue.release("f1")
    assert drain(queue) == ["e1"]


def test_releasing_frees_only_the_released_jobs_slot() -> None:
    queue = FairQueue({"gpu": ("gpu:0", 2)})
    for job_id in ["a1", "a2", "a3", "a4"]:
        queue.add(job_id, "alice", "x@gpu")
    assert drain(queue) == ["a1", "a2"]
    queue.release("a1")
    queue.release("a1")  # a second release of the same job frees nothing more
    queue.release("unknown")
    assert drain(queue) == ["a3"]


def test_cancelling_a_queued_job_removes_it() -> None:
    queue = FairQueue()
    for job_id in ["a1", "a2", "a3"]:
        queue.add(job_id, "alice", "x@aer")
    queue.add("b1", "bob", "x@aer")
    assert queue.remove("a2") is True
    assert queue.remove("a2") is False
    assert queue.remove("unknown") is False
    assert queue.pending("alice") == 2
    assert drain(queue) == ["a1", "b1", "a3"]
    assert queue.remove("a1") is False  # started: not the queue's to cancel
    assert queue.pending("alice") == 2


def test_a_user_whose_jobs_were_all_cancelled_loses_the_turn() -> None:
    queue = FairQueue()
    queue.add("a1", "alice", "x@aer")
    queue.add("a2", "alice", "x@aer")
    queue.add("b1", "bob", "x@aer")
    queue.add("c1", "carol", "x@aer")
    assert queue.start_next() == "a1"  # turns: bob, carol, alice
    assert queue.remove("b1") is True
    assert queue.start_next() == "c1"  # bob has nothing queued: his turn is gone
    queue.add("b2", "bob", "x@aer")
    assert drain(queue) == ["a2", "b2"]


def test_a_user_who_queues_again_before_the_next_start_keeps_the_turn() -> None:
    queue = FairQueue()
    queue.add("a1", "alice", "x@aer")
    queue.add("b1", "bob", "x@aer")
    assert queue.remove("a1") is True
    queue.add("a2", "alice", "x@aer")
    assert drain(queue) == ["a2", "b1"]


def test_positions_count_within_the_users_queue() -> None:
    queue = FairQueue()
    for job_id in ["a1", "a2", "a3"]:
        queue.add(job_id, "alice", "x@aer")
    queue.add("b1", "bob", "x@aer")
    positions = {j: queue.position_in_queue(j) for j in ["a1", "a2", "a3", "b1"]}
    assert positions == {"a1": 1, "a2": 2, "a3": 3, "b1": 1}
    assert queue.start_next() == "a1"
    assert queue.remove("a2")
    positions = {j: queue.position_in_queue(j) for j in ["a1", "a2", "a3", "b1"]}
    assert positions == {"a1": None, "a2": None, "a3": 1, "b1": 1}
    assert queue.position_in_queue("unknown") is None


def test_queue_lengths_count_queued_and_started_jobs_per_backend() -> None:
    queue = FairQueue()
    queue.add("a1", "alice", "fake_manila@aer")
    queue.add("a2", "alice", "fake_manila@aer")
    queue.add("b1", "bob", "fake_manila@aer_ideal")
    queue.add("b2", "bob", "ideal_32q@aer")
    assert queue.queue_lengths() == {
        "fake_manila@aer": 2,
        "fake_manila@aer_ideal": 1,
        "ideal_32q@aer": 1,
    }
    assert queue.start_next() == "a1"
    assert queue.remove("b2")
    assert queue.queue_lengths() == {"fake_manila@aer": 2, "fake_manila@aer_ideal": 1}
    queue.release("a1")
    assert queue.queue_lengths() == {"fake_manila@aer": 1, "fake_manila@aer_ideal": 1}


def test_pending_counts_a_users_queued_and_started_jobs() -> None:
    queue = FairQueue()
    queue.add("a1", "alice", "x@aer")
    queue.add("a2", "alice", "x@aer")
    queue.add("b1", "bob", "x@aer")
    assert (queue.pending("alice"), queue.pending("bob"), queue.pending("carol")) == (2, 1, 0)
    assert queue.start_next() == "a1"
    assert queue.pending("alice") == 2
    queue.release("a1")
    assert queue.pending("alice") == 1


def test_adding_a_job_twice_is_refused() -> None:
    queue = FairQueue()
    queue.add("a1", "alice", "x@aer")
    with pytest.raises(ValueError, match="a1"):
        queue.add("a1", "bob", "x@aer")
    assert drain(queue) == ["a1"]


def test_limits_come_from_the_catalogs_limited_executors() -> None:
    """Only executors with both a resource and a limit are limited (attributes as the catalog's
    configured executors have them)."""

    def executor(name: str, key: str | None = None, limit: int | None = None) -> SimpleNamespace:
        return SimpleNamespace(name=name, concurrency_key=key, max_concurrent_jobs=limit)

    executors = (
        executor("aer"),
        executor("gpu", "gpu:0", 1),
        executor("gpu_fast", "gpu:0", 3),
        executor("keyless", None, 2),
        executor("unlimited", "gpu:1", None),
    )
    catalog = SimpleNamespace(executors=executors)
    assert concurrency_limits(catalog) == {  # type: ignore[arg-type]
        "gpu": ("gpu:0", 1),
        "gpu_fast": ("gpu:0", 3),
    }

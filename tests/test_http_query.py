"""Query arguments are read strictly, and a job's slot is free once a client sees it final.

Found by the API fuzzer (tests/test_fuzz.py, `make fuzz`): a repeated scalar argument used its
last value, white space or a control character around a number was dropped, a bad cursor passed
unread when the workloads' mode selected nothing, and a user at the limit of unfinished jobs was
refused for a moment after being told the last one was final.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .http_helpers import API, bell_job, decode, submit


@pytest.fixture
def jp_server_config(tmp_path: Path) -> dict:
    """One unfinished job per user, so that a job's slot shows when it is free."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_qiskit_runtime": True}},
        "QiskitRuntimeApp": {
            "db_path": str(tmp_path / "jobs.sqlite3"),
            "pool_size": 1,
            "max_pending_jobs_per_user": 1,
        },
    }


async def _refused(jp_fetch, path: tuple[str, ...], params: list[tuple[str, str]]) -> str:
    response = await jp_fetch(*API, *path, params=params, raise_error=False)
    assert response.code == 400, response.body
    return str(decode(response)["error"]["message"])


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        (("jobs",), [("limit", "abc"), ("limit", "5")], "'limit' is given 2 times"),
        (("jobs",), [("limit", "5"), ("limit", "5")], "'limit' is given 2 times"),
        (("jobs",), [("pending", "true"), ("pending", "false")], "'pending' is given 2 times"),
        (("jobs",), [("backend", "a"), ("backend", "b")], "'backend' is given 2 times"),
        (("jobs",), [("created_after", "2025-01-01T00:00:00Z")] * 2, "'created_after' is given"),
        (("jobs", "x", "wait"), [("timeout", "abc"), ("timeout", "0.1")], "'timeout' is given"),
        (("jobs",), [("limit", "  5")], "'limit' has white space around it"),
        (("jobs",), [("limit", "5\n")], "'limit' has white space around it"),
        (("jobs",), [("offset", "\x184")], "'offset' has white space around it or a control"),
        (("jobs", "changes"), [("timeout", "0 ")], "'timeout' has white space"),
        (("jobs",), [("pending", " true")], "'pending' has white space"),
        (("workloads",), [("sort", "createdAt "), ("limit", "5")], "'sort' has white space"),
    ],
)
async def test_scalar_arguments_are_given_once_and_exactly(jp_fetch, path, params, fragment):
    """A scalar argument given twice, or with white space or a control character around its
    value, is a 400 naming it, not the last value or the value stripped."""
    assert fragment in await _refused(jp_fetch, path, params)


async def test_repeatable_filters_still_take_many_values(jp_fetch) -> None:
    """``tags`` is an array: repeated, every value counts (the job must carry all of them)."""
    response = await jp_fetch(*API, "jobs", params=[("tags", "a"), ("tags", "b")])
    assert response.code == 200 and decode(response)["count"] == 0


@pytest.mark.parametrize("mode", ["session", "batch", "job"])
async def test_workload_cursors_are_checked_whatever_the_mode(jp_fetch, mode) -> None:
    """A cursor that is not one is a 400 also when the mode selects no workload."""
    message = await _refused(jp_fetch, ("workloads",), [("mode", mode), ("next", "garbage")])
    assert "'next'" in message


async def test_a_job_reported_final_no_longer_counts_as_unfinished(jp_fetch) -> None:
    """At the limit of one unfinished job, the next job is accepted as soon as ``/wait`` has
    answered that the previous one is final, every time."""
    for _ in range(5):
        job_id = await submit(jp_fetch, bell_job(shots=10))
        response = await jp_fetch(*API, "jobs", job_id, "wait", params={"timeout": "60"})
        assert decode(response)["status"] == "Completed"

"""The job- and backend-side API surface through Jupyter Server's HTTP layer (in process):
listing filters, delete, tags, workloads and their cursors, calibration ids, private jobs, other
users, and a table of bad input.

Jobs are written straight into the server's store with chosen creation times, tags and states,
so that every filter can be checked against a model of the expected answer, and no test here
spawns a worker process. ``test_jobs_api.py`` runs real jobs through the official client.
"""

from __future__ import annotations

import getpass
import json
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jupyter_qiskit_runtime.runtime.qiskit_runtime import QiskitRuntime
from jupyter_qiskit_runtime.runtime.records import (
    CANCELLED,
    COMPLETED,
    FAILED,
    FINAL_STATES,
    QUEUED,
    RUNNING,
    JobRecord,
    utc_iso,
)

from .http_helpers import API, NO_SUCH_JOB, NOT_FOUND, bell_job, decode, error_of, get_json

#: The one owner of everything under Jupyter's own token identity provider.
OWNER = getpass.getuser()
#: When the first job of a test was created; the others follow a minute apart.
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
#: The one calibration of fake_manila: its properties' last_update_date (15:27:23-03:00).
MANILA_CALIBRATION = "fake_manila-20240527T182723Z"
BACKENDS = ("fake_manila@aer_ideal", "ideal_5q@aer_ideal", "fake_lima@aer")
STATES = (COMPLETED, FAILED, CANCELLED, QUEUED, RUNNING)


def runtime_of(jp_serverapp: Any) -> QiskitRuntime:
    """The runtime of the in-process server's extension."""
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_qiskit_runtime"]
    return app.runtime  # type: ignore[no-any-return]


@dataclass
class Spec:
    """A job to write into the store."""

    created: datetime
    backend: str = "fake_manila@aer_ideal"
    program_id: str = "sampler"
    status: str = COMPLETED
    tags: tuple[str, ...] = ()
    session_id: str | None = None
    private: bool = False
    owner: str = OWNER
    id: str = ""


def add_job(runtime: QiskitRuntime, spec: Spec, params: str = '{"pubs": ["P"]}') -> str:
    """Store a job as the scheduler would have left it in ``spec.status``; its id."""
    spec.id = uuid.uuid4().hex[:20]
    runtime.store.insert(
        JobRecord(
            id=spec.id, owner=spec.owner, program_id=spec.program_id, backend=spec.backend,
            status=QUEUED, created=utc_iso(spec.created), tags=list(spec.tags),
            session_id=spec.session_id, private=spec.private,
        ),
        params,
    )  # fmt: skip
    if spec.status != QUEUED:
        assert runtime.store.mark_running(spec.id)
    if spec.status in FINAL_STATES:
        failed = spec.status == FAILED
        runtime.store.finish(
            spec.id,
            spec.status,
            result=f"Traceback: {spec.id} failed" if failed else f"RESULT {spec.id}",
            reason="It failed." if failed else None,
            metrics={"usage_seconds": 0.25},
        )
    return spec.id


def population(count: int = 30) -> list[Spec]:
    """Jobs whose attributes cycle with different periods, so that filters intersect."""
    return [
        Spec(
            created=T0 + timedelta(minutes=i),
            backend=BACKENDS[i % 3],
            program_id="estimator" if i % 4 == 0 else "sampler",
            status=STATES[i % 5],
            tags=tuple(tag for tag, period in (("a", 2), ("b", 3), ("c 5", 5)) if i % period == 0),
            session_id="s-7" if i % 7 == 0 else None,
            private=i % 6 == 1,
        )
        for i in range(count)
    ]


def query(**args: Any) -> list[tuple[str, str]]:
    """Query arguments as a list of pairs, so that a list value repeats its argument."""
    pairs: list[tuple[str, str]] = []
    for key, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return pairs


async def listed(jp_fetch: Callable[..., Any], **args: Any) -> dict[str, Any]:
    """``GET /jobs`` with these query arguments (a list value repeats its argument)."""
    return dict(await get_json(jp_fetch, "jobs", params=query(**args)))


def at(minute: int) -> datetime:
    """The creation time of the job created ``minute`` minutes after ``T0``."""
    return T0 + timedelta(minutes=minute)


#: Filters of ``GET /jobs`` and which jobs of ``population()`` each selects.
FILTERS: list[tuple[dict[str, Any], Callable[[Spec], bool]]] = [
    ({}, lambda s: True),
    ({"backend": "ideal_5q@aer_ideal"}, lambda s: s.backend == "ideal_5q@aer_ideal"),
    ({"program": "estimator"}, lambda s: s.program_id == "estimator"),
    ({"pending": "true"}, lambda s: s.status in (QUEUED, RUNNING)),
    ({"pending": "false"}, lambda s: s.status in FINAL_STATES),
    ({"tags": "a"}, lambda s: "a" in s.tags),
    ({"tags": ["a", "b"]}, lambda s: {"a", "b"} <= set(s.tags)),
    ({"tags": ["a", "b", "c 5"]}, lambda s: {"a", "b", "c 5"} <= set(s.tags)),
    ({"tags": ["a", "nowhere"]}, lambda s: False),
    ({"session_id": "s-7"}, lambda s: s.session_id == "s-7"),
    ({"created_after": utc_iso(at(10))}, lambda s: s.created >= at(10)),
    ({"created_before": utc_iso(at(10))}, lambda s: s.created <= at(10)),
    (
        {"created_after": at(5).isoformat(), "created_before": at(9).isoformat()},
        lambda s: at(5) <= s.created <= at(9),
    ),
    # The same instant written in another offset; and its '+' sent unencoded (read as a space).
    ({"created_after": "2025-03-01T14:20:00+02:00"}, lambda s: s.created >= at(20)),
    ({"created_before": "2025-03-01T14:20:00 02:00"}, lambda s: s.created <= at(20)),
    ({"created_after": "2025-03-01T12:20:00"}, lambda s: s.created >= at(20)),  # no offset: UTC
    (
        {"backend": "fake_manila@aer_ideal", "pending": "false", "tags": "a", "sort": "ASC"},
        lambda s: (
            s.backend == "fake_manila@aer_ideal" and s.status in FINAL_STATES and "a" in s.tags
        ),
    ),
]


async def test_every_listing_filter_selects_what_a_model_of_it_selects(
    jp_fetch, jp_serverapp
) -> None:
    """For each filter of the client (alone and combined), ``GET /jobs`` answers exactly the
    jobs a plain-Python model selects, newest first (oldest first with ``sort=ASC``), with
    ``count`` the number of all of them."""
    runtime = runtime_of(jp_serverapp)
    specs = population()
    for spec in specs:
        add_job(runtime, spec)
    for args, selects in FILTERS:
        answer = await listed(jp_fetch, limit=1000, **args)
        expected = [s.id for s in sorted(specs, key=lambda s: s.created) if selects(s)]
        if args.get("sort") != "ASC":
            expected.reverse()
        assert [j["id"] for j in answer["jobs"]] == expected, args
        assert answer["count"] == len(expected), args
        assert (answer["limit"], answer["offset"]) == (1000, 0)
    assert all(any(sel(s) for s in specs) for args, sel in FILTERS if "nowhere" not in str(args))


async def test_paging_and_params_of_a_listing(jp_fetch, jp_serverapp) -> None:
    """``limit``/``offset`` pages cover a filtered listing without overlap or gap, ``count``
    stays the total; params are left out unless ``exclude_params=false``, and a private job's
    are never returned."""
    runtime = runtime_of(jp_serverapp)
    specs = population(23)
    for spec in specs:
        add_job(runtime, spec)
    sampler = [s.id for s in sorted(specs, key=lambda s: s.created, reverse=True)]
    sampler = [i for i in sampler if next(s for s in specs if s.id == i).program_id == "sampler"]
    pages = []
    for offset in range(0, len(sampler) + 4, 4):
        page = await listed(jp_fetch, program="sampler", limit=4, offset=offset)
        assert page["count"] == len(sampler)
        assert page["offset"] == offset
        pages.append([j["id"] for j in page["jobs"]])
    assert [job for page in pages for job in page] == sampler
    assert pages[-1] == []

    without = await listed(jp_fetch, limit=100)
    assert all("params" not in j for j in without["jobs"])
    full = await listed(jp_fetch, limit=100, exclude_params="false")
    by_id = {s.id: s for s in specs}
    for job in full["jobs"]:
        private = by_id[job["id"]].private
        assert job["private"] is private
        assert ("params" in job) is not private, job
        if not private:
            assert job["params"] == {"pubs": ["P"]}


async def test_delete_a_final_job_and_refuse_a_pending_one(jp_fetch, jp_serverapp) -> None:
    """``DELETE /jobs/{id}`` removes a final job (204; then 404 everywhere, gone from the
    listing); a queued or running job is refused with 409 saying to cancel it first, and can
    be deleted once cancelled."""
    runtime = runtime_of(jp_serverapp)
    done = add_job(runtime, Spec(at(0)))
    queued = add_job(runtime, Spec(at(1), status=QUEUED))
    running = add_job(runtime, Spec(at(2), status=RUNNING))
    kept = add_job(runtime, Spec(at(3), status=FAILED))

    response = await jp_fetch(*API, "jobs", done, method="DELETE")
    assert response.code == 204 and response.body == b""
    for path in ((), ("results",), ("logs",), ("metrics",)):
        message = await error_of(jp_fetch(*API, "jobs", done, *path), 404)
        assert f"Job {done} was not found" in message
    await error_of(jp_fetch(*API, "jobs", done, method="DELETE"), 404)

    for job_id, state in ((queued, QUEUED), (running, RUNNING)):
        message = await error_of(jp_fetch(*API, "jobs", job_id, method="DELETE"), 409)
        assert f"Job {job_id} is {state} and cannot be deleted" in message
        assert "cancel it first" in message
    assert {j["id"] for j in (await listed(jp_fetch))["jobs"]} == {queued, running, kept}

    response = await jp_fetch(*API, "jobs", queued, "cancel", method="POST", body="")
    assert response.code == 204
    response = await jp_fetch(*API, "jobs", queued, method="DELETE")
    assert response.code == 204
    assert {j["id"] for j in (await listed(jp_fetch))["jobs"]} == {running, kept}


async def test_put_tags_replaces_them(jp_fetch, jp_serverapp) -> None:
    """``PUT /jobs/{id}/tags`` replaces the tags (204), drops duplicates, works on a pending
    job too, is what the tag filter then sees, and an empty list clears them."""
    runtime = runtime_of(jp_serverapp)
    job_id = add_job(runtime, Spec(at(0), status=QUEUED, tags=("old",)))
    body = json.dumps({"tags": ["new", "x y", "new"]})
    response = await jp_fetch(*API, "jobs", job_id, "tags", method="PUT", body=body)
    assert response.code == 204 and response.body == b""
    job = await get_json(jp_fetch, "jobs", job_id)
    assert job["tags"] == ["new", "x y"]
    assert [j["id"] for j in (await listed(jp_fetch, tags=["x y", "new"]))["jobs"]] == [job_id]
    assert (await listed(jp_fetch, tags="old"))["count"] == 0

    eight = [f"t{i}" for i in range(7)] + ["z" * 86]
    await jp_fetch(*API, "jobs", job_id, "tags", method="PUT", body=json.dumps({"tags": eight}))
    assert (await get_json(jp_fetch, "jobs", job_id))["tags"] == eight
    await jp_fetch(*API, "jobs", job_id, "tags", method="PUT", body=json.dumps({"tags": []}))
    assert (await get_json(jp_fetch, "jobs", job_id))["tags"] == []


async def _workload_pages(
    jp_fetch: Callable[..., Any], direction: str, **args: Any
) -> list[dict[str, Any]]:
    """Every page of ``GET /workloads``, following ``direction`` hrefs from the first."""
    pages = [dict(await get_json(jp_fetch, "workloads", params=query(**args)))]
    while pages[-1][direction] is not None:
        href = urllib.parse.urlsplit(pages[-1][direction]["href"])
        assert href.path.endswith("/qiskit-runtime/v1/workloads")
        assert href.scheme == "http" and href.netloc
        pages.append(
            dict(await get_json(jp_fetch, "workloads", params=urllib.parse.parse_qsl(href.query)))
        )
        assert len(pages) < 50
    return pages


async def test_workloads_pages_follow_their_cursors(jp_fetch, jp_serverapp) -> None:
    """``GET /workloads`` answers IBM's shape; ``next`` hrefs walk every matching job exactly
    once in creation order, ``previous`` hrefs walk back through the same pages; ``total_count``
    counts them all; the filters (status, search, tags, backend, created, mode) are kept in the
    hrefs and applied; ``sort=-createdAt`` reverses the order."""
    runtime = runtime_of(jp_serverapp)
    specs = population(23)
    for spec in specs:
        add_job(runtime, spec)
    ordered = [s.id for s in sorted(specs, key=lambda s: s.created)]

    pages = await _workload_pages(jp_fetch, "next", limit=5)
    assert [len(p["workloads"]) for p in pages] == [5, 5, 5, 5, 3]
    assert [w["id"] for p in pages for w in p["workloads"]] == ordered
    assert all(p["total_count"] == 23 and p["limit"] == 5 for p in pages)
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    first = pages[0]["workloads"][0]
    spec = specs[0]
    assert first["mode"] == "job" and first["status"] == "completed"
    assert first["backend"] == spec.backend and first["user_id"] == OWNER
    assert first["usage"] == {"qpu_charge_time_seconds": 0.25, "status": "complete"}
    assert first["created"] == utc_iso(spec.created) and first["ended"]
    pending = next(w for p in pages for w in p["workloads"] if w["status"] == "pending")
    assert pending["usage"]["status"] == "pending" and pending["ended"] is None

    last = urllib.parse.urlsplit(pages[-2]["next"]["href"])
    back = await _workload_pages(jp_fetch, "previous", **dict(urllib.parse.parse_qsl(last.query)))
    assert [[w["id"] for w in p["workloads"]] for p in back] == [
        [w["id"] for w in p["workloads"]] for p in reversed(pages)
    ]

    newest = await _workload_pages(jp_fetch, "next", limit=10, sort="-createdAt")
    assert [w["id"] for p in newest for w in p["workloads"]] == ordered[::-1]

    chosen = [
        s.id for s in sorted(specs, key=lambda s: s.created)
        if s.status in (FAILED, CANCELLED) and "a" in s.tags
    ]  # fmt: skip
    filtered = await _workload_pages(jp_fetch, "next", limit=2, status="failed,canceled", tags="a")
    assert [w["id"] for p in filtered for w in p["workloads"]] == chosen
    assert all(p["total_count"] == len(chosen) for p in filtered)
    assert len(filtered) > 1 and "status=failed%2Ccanceled" in filtered[0]["next"]["href"]
    repeated = await _workload_pages(
        jp_fetch, "next", limit=50, status=["failed", "canceled"], tags="a"
    )
    assert [w["id"] for w in repeated[0]["workloads"]] == chosen

    target = specs[11]
    for term in (target.id[:8].upper(), "C 5"):
        found = await _workload_pages(jp_fetch, "next", limit=50, search=term)
        ids = {w["id"] for p in found for w in p["workloads"]}
        if term == "C 5":
            assert ids == {s.id for s in specs if "c 5" in s.tags}
        else:
            assert target.id in ids
    window = await _workload_pages(
        jp_fetch, "next", limit=50, backend=BACKENDS[1],
        created_after=utc_iso(at(3)), created_before=utc_iso(at(13)),
    )  # fmt: skip
    assert [w["id"] for w in window[0]["workloads"]] == [
        s.id for s in specs if s.backend == BACKENDS[1] and at(3) <= s.created <= at(13)
    ]
    for mode, count in (("job", 23), ("session", 0), ("batch", 0)):
        answer = await get_json(jp_fetch, "workloads", params={"mode": mode, "user": "me"})
        assert answer["total_count"] == count


async def test_calibration_ids(jp_fetch) -> None:
    """A backend's one calibration id is in its configuration and properties, is accepted back
    as ``calibration_id``, is shared by both executors, and ``updated_before`` after it answers
    the properties; an ideal simulator's id is ``<name>-ideal``."""
    for executor in ("aer", "aer_ideal"):
        name = f"fake_manila@{executor}"
        conf = await get_json(jp_fetch, "backends", name, "configuration")
        assert conf["calibration_id"] == MANILA_CALIBRATION
        assert "dynamic_circuits" in conf["supported_features"]  # it lists if_else
        again = await get_json(
            jp_fetch, "backends", name, "configuration",
            params={"calibration_id": MANILA_CALIBRATION},
        )  # fmt: skip
        assert again == conf
        props = await get_json(
            jp_fetch, "backends", name, "properties",
            params={"calibration_id": MANILA_CALIBRATION, "updated_before": "2024-05-27T18:27:23Z"},
        )  # fmt: skip
        assert props["calibration_id"] == MANILA_CALIBRATION
        assert props["backend_name"] == name
    message = await error_of(
        jp_fetch(*API, "backends", "fake_manila@aer", "properties",
                 params={"updated_before": "2024-05-27T18:27:22Z"}),
        404,
    )  # fmt: skip
    assert "no calibration from before 2024-05-27T18:27:22" in message
    assert MANILA_CALIBRATION in message
    ideal = await get_json(
        jp_fetch, "backends", "ideal_5q@aer", "configuration",
        params={"calibration_id": "ideal_5q-ideal"},
    )  # fmt: skip
    assert ideal["calibration_id"] == "ideal_5q-ideal"
    assert await get_json(
        jp_fetch, "backends", "ideal_5q@aer", "properties",
        params={"calibration_id": "ideal_5q-ideal"},
    ) == {}  # fmt: skip


async def test_private_job_params_are_never_returned_and_results_read_once(
    jp_fetch, jp_serverapp
) -> None:
    """A private job's params are never returned and are deleted when it is final; its result
    reads once, then is deleted (then an empty answer, as IBM's); a failed private job's error
    reads every time; a job that is not private keeps both."""
    runtime = runtime_of(jp_serverapp)
    queued = add_job(runtime, Spec(at(0), status=QUEUED, private=True))
    done = add_job(runtime, Spec(at(1), private=True))
    failed = add_job(runtime, Spec(at(2), status=FAILED, private=True))
    public = add_job(runtime, Spec(at(3)))

    for job_id in (queued, done, failed):
        job = await get_json(jp_fetch, "jobs", job_id, params={"exclude_params": "false"})
        assert job["private"] is True and "params" not in job
    assert runtime.store.params(queued) == '{"pubs": ["P"]}'  # kept: it has yet to run
    assert runtime.store.params(done) == "{}"
    assert runtime.store.params(failed) == "{}"
    assert (await get_json(jp_fetch, "jobs", public))["params"] == {"pubs": ["P"]}

    response = await jp_fetch(*API, "jobs", done, "results")
    assert response.body.decode() == f"RESULT {done}"
    assert runtime.store.result(done) is None
    response = await jp_fetch(*API, "jobs", done, "results")
    assert response.code == 200 and response.body == b""  # as IBM's: empty, and falsy
    for _ in range(2):
        response = await jp_fetch(*API, "jobs", failed, "results")
        assert response.body.decode() == f"Traceback: {failed} failed"
        response = await jp_fetch(*API, "jobs", public, "results")
        assert response.body.decode() == f"RESULT {public}"
    assert (await get_json(jp_fetch, "jobs", done))["state"]["status"] == "Completed"


class TestAnotherUsersJobs:
    """With an identity provider that tells users apart, everything of alice's is bob's 404."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict) -> dict:
        """The shared config with the two-user identity provider of ``tests/identity.py``."""
        jp_server_config["ServerApp"]["identity_provider_class"] = (
            "tests.identity.TwoUserIdentityProvider"
        )
        return jp_server_config

    async def test_bob_gets_404_for_alices_delete_and_tags(self, jp_fetch, jp_serverapp) -> None:
        """Bob's delete and tag update of alice's jobs (final and pending) are 404 exactly like
        a job that does not exist, and change nothing; bob's listing and workloads are empty;
        alice can do both."""
        alice = {"Authorization": "token alice-token"}
        bob = {"Authorization": "token bob-token"}
        runtime = runtime_of(jp_serverapp)
        done = add_job(runtime, Spec(at(0), owner="alice", tags=("mine",)))
        queued = add_job(runtime, Spec(at(1), owner="alice", status=QUEUED))
        tags = json.dumps({"tags": ["bobs"]})
        for job_id in (done, queued, NO_SUCH_JOB):
            for request in (
                jp_fetch(*API, "jobs", job_id, method="DELETE", headers=bob),
                jp_fetch(*API, "jobs", job_id, "tags", method="PUT", body=tags, headers=bob),
            ):
                message = await error_of(request, 404)
                assert message == f"Job {job_id} was not found."
        for path in ("jobs", "workloads"):
            answer = await get_json(jp_fetch, path, headers=bob)
            assert answer.get("count", answer.get("total_count")) == 0
        job = await get_json(jp_fetch, "jobs", done, headers=alice)
        assert job["tags"] == ["mine"] and job["user_id"] == "alice"
        answer = await get_json(jp_fetch, "workloads", headers=alice)
        assert {w["id"] for w in answer["workloads"]} == {done, queued}

        response = await jp_fetch(
            *API, "jobs", done, "tags", method="PUT", body=tags, headers=alice
        )
        assert response.code == 204
        response = await jp_fetch(*API, "jobs", done, method="DELETE", headers=alice)
        assert response.code == 204
        assert (await get_json(jp_fetch, "jobs", headers=alice))["count"] == 1


# -- bad input --------------------------------------------------------------------------------


def _case(
    method: str, path: tuple[str, ...], args: dict[str, Any], body: Any, status: int,
    *fragments: str, id: str,
) -> Any:  # fmt: skip
    return pytest.param(method, path, args, body, status, fragments, id=id)


def _tags(value: Any) -> str:
    return json.dumps({"tags": value})


def _job_with(**changes: Any) -> Callable[[], str]:
    return lambda: json.dumps({**bell_job(), **changes})


JOB = ("jobs", NO_SUCH_JOB)
WORKLOADS = ("workloads",)
ISO = "must be an ISO 8601 date and time such as 2025-01-31T12:00:00Z"

#: Bad requests to the new endpoints and parameters: method, path, query, body, status, message.
BAD_REQUESTS = [
    _case("GET", ("jobs",), {"created_after": "yesterday"}, None, 400,
          f"'created_after' {ISO}, not 'yesterday'", id="created-after-not-iso"),
    _case("GET", ("jobs",), {"created_before": "2025-13-01T00:00:00Z"}, None, 400,
          f"'created_before' {ISO}", id="created-before-month-13"),
    _case("GET", ("jobs",), {"created_after": "2025-02-01", "created_before": "2025-01-01"},
          None, 400, "'created_after' is later than 'created_before'", id="created-range-empty"),
    _case("GET", ("jobs",), {"sort": "sideways"}, None, 400,
          "'sort' must be 'ASC' or 'DESC'", id="sort-sideways"),
    _case("GET", ("jobs",), {"exclude_params": "maybe"}, None, 400,
          "'exclude_params' must be 'true' or 'false'", id="list-exclude-params-maybe"),
    _case("GET", ("jobs",), {"include_mocks": "perhaps"}, None, 400,
          "'include_mocks' must be 'true' or 'false'", id="include-mocks-perhaps"),
    _case("GET", ("jobs",), {"offset": "ten"}, None, 400,
          "'offset' must be an integer", id="offset-not-a-number"),
    _case("GET", ("jobs",), {"limit": "1001"}, None, 400,
          "'limit' must be between 0 and 1000", id="limit-over-1000"),
    _case("GET", JOB, {"exclude_params": "yes"}, None, 400,
          "'exclude_params' must be 'true' or 'false'", id="job-exclude-params-yes"),
    _case("GET", WORKLOADS, {"limit": "0"}, None, 400,
          "'limit' must be between 1 and 50", id="workloads-limit-0"),
    _case("GET", WORKLOADS, {"limit": "51"}, None, 400,
          "'limit' must be between 1 and 50", id="workloads-limit-51"),
    _case("GET", WORKLOADS, {"sort": "newest"}, None, 400,
          "'sort' must be one of 'createdAt', '-createdAt'", id="workloads-sort-newest"),
    _case("GET", WORKLOADS, {"user": "bob"}, None, 400,
          "'user' must be one of 'me'", id="workloads-user-bob"),
    _case("GET", WORKLOADS, {"status": "done"}, None, 400,
          "'status' has unknown values ['done']", "pending, in_progress", id="workloads-status"),
    _case("GET", WORKLOADS, {"mode": "solo"}, None, 400,
          "'mode' must be one of 'job', 'session', 'batch'", id="workloads-mode-solo"),
    _case("GET", WORKLOADS, {"next": "garbage!"}, None, 400,
          "'next' is not a cursor this server gave out", id="workloads-bad-cursor"),
    _case("GET", WORKLOADS, {"previous": "c2VxOng"}, None, 400,
          "'previous' is not a cursor", id="workloads-cursor-not-a-number"),
    _case("GET", WORKLOADS, {"next": "c2VxOjE", "previous": "c2VxOjE"}, None, 400,
          "at most one of the query arguments 'next' and 'previous'", id="workloads-two-cursors"),
    _case("GET", WORKLOADS, {"created_before": "soon"}, None, 400,
          f"'created_before' {ISO}", id="workloads-created-before-not-iso"),
    _case("PUT", (*JOB, "tags"), {}, "{", 400, "not valid JSON", id="tags-malformed-json"),
    _case("PUT", (*JOB, "tags"), {}, "[]", 400,
          'must be a JSON object {"tags": [...]}', id="tags-body-a-list"),
    _case("PUT", (*JOB, "tags"), {}, "{}", 400,
          'must be a JSON object {"tags": [...]}', id="tags-missing"),
    _case("PUT", (*JOB, "tags"), {}, _tags("a"), 400,
          "'tags' must be a list of strings", id="tags-a-string"),
    _case("PUT", (*JOB, "tags"), {}, _tags(["a", 1]), 400,
          "'tags' must be a list of strings", id="tags-not-strings"),
    _case("PUT", (*JOB, "tags"), {}, _tags([f"t{i}" for i in range(9)]), 400,
          "holds 9 tags; a job has at most 8", id="tags-nine"),
    _case("PUT", (*JOB, "tags"), {}, _tags(["x" * 87]), 400,
          "is 87 characters long; a tag has at most 86", id="tags-too-long"),
    _case("PUT", (*JOB, "tags"), {}, _tags(["ok"]), 404, NOT_FOUND, id="tags-unknown-job"),
    _case("DELETE", JOB, {}, None, 404, NOT_FOUND, id="delete-unknown-job"),
    _case("GET", ("backends", "fake_manila@aer", "configuration"), {"calibration_id": "c1"},
          None, 404, "Backend fake_manila@aer has no calibration 'c1'", MANILA_CALIBRATION,
          id="configuration-unknown-calibration"),
    _case("GET", ("backends", "ideal_5q@aer", "properties"), {"calibration_id": "c1"},
          None, 404, "has no calibration 'c1'", "'ideal_5q-ideal'",
          id="properties-unknown-calibration"),
    _case("GET", ("backends", "fake_manila@aer", "properties"), {"updated_before": "later"},
          None, 400, f"'updated_before' {ISO}", id="properties-updated-before-not-iso"),
    _case("POST", ("jobs",), {}, _job_with(calibration_id="c1"), 404,
          "Backend fake_manila@aer_ideal has no calibration 'c1'", id="job-unknown-calibration"),
    _case("POST", ("jobs",), {}, _job_with(calibration_id=7), 400,
          "'calibration_id' must be of type str, not int", id="job-calibration-id-int"),
    _case("POST", ("jobs",), {}, _job_with(tags=["y" * 87]), 400,
          "a tag has at most 86", id="job-tag-too-long"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "args", "body", "status", "fragments"), BAD_REQUESTS)
async def test_bad_input_to_new_endpoints_is_a_4xx_that_says_what_is_wrong(
    jp_fetch, method, path, args, body, status, fragments
) -> None:
    """Each bad input is the listed 4xx (never a 500) with ``{"error": {"message", "code"}}``
    whose message names the problem; no job is created or changed."""
    response = await jp_fetch(
        *API, *path, method=method, params=args, raise_error=False,
        body=body() if callable(body) else body,
    )  # fmt: skip
    assert response.code == status, response.body
    error = decode(response)["error"]
    assert isinstance(error["code"], int) and error["code"] >= 1000
    for fragment in fragments:
        assert fragment in error["message"], error["message"]
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0

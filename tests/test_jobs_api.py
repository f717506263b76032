"""Jobs and backends through the official client (qiskit-ibm-runtime 0.51) against a real server
process with a database of its own: ``service.jobs()`` filtering and paging over 52 real jobs,
``service.job()`` after a restart, ``delete_job``, a job's logs, metrics, usage, tags and
properties, private jobs, ``least_busy``, ``backends()`` filters and instance usage.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2
from qiskit_ibm_runtime.exceptions import IBMRuntimeError, RuntimeJobNotFound

from jupyter_qiskit_runtime import connect
from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog

from .circuits import bell_circuit, bell_isa, endless_circuit, params_for, sampler_job_body
from .rest import FINAL, RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOKEN = "jobs-api-token"
MANILA = "fake_manila@aer_ideal"
MANILA_CALIBRATION = "fake_manila-20240527T182723Z"
SAMPLER_JOBS = 48
#: An estimator job is submitted after every this many sampler jobs.
ESTIMATOR_EVERY = 12


@dataclass
class Fleet:
    """The jobs every listing test reads, in submission order, with what tells them apart."""

    ids: list[str]
    tags: dict[str, list[str]]
    estimator: list[str]
    created: dict[str, str]

    @property
    def end(self) -> datetime:
        """When the last of them was created: listings bounded by it ignore later jobs."""
        return datetime.fromisoformat(self.created[self.ids[-1]])

    def newest_first(self, ids: list[str] | None = None) -> list[str]:
        """``ids`` (all by default) in the order of a default listing."""
        chosen = set(self.ids if ids is None else ids)
        return [job_id for job_id in reversed(self.ids) if job_id in chosen]


class Server:
    """The module's server; ``restart`` replaces it by a new process on the same database."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process = ServerProcess(
            workdir, TOKEN,
            "--QiskitRuntimeApp.pool_size=2", "--QiskitRuntimeApp.prestart_workers=2",
        ).start()  # fmt: skip

    def restart(self) -> ServerProcess:
        """Stop the server cleanly and start another one on the same database."""
        self.process.stop()
        self.process = ServerProcess(self.workdir, TOKEN).start()
        return self.process


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own, with two warm workers and a fresh database."""
    server = Server(tmp_path_factory.mktemp("jobs-api"))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def client(api_server: Server) -> QiskitRuntimeService:
    """The official client, connected through ``connect()``."""
    return connect(api_server.process.url, TOKEN)


def _estimator_body() -> dict[str, Any]:
    """An EstimatorV2 job on ideal_5q@aer_ideal: <ZZ> of a Bell pair."""
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    return {
        "program_id": "estimator",
        "backend": "ideal_5q@aer_ideal",
        "params": params_for([(bell, {"ZZ": 1.0})]),
        "tags": ["est"],
    }


def _wait_until_none_pending(rest: RestClient) -> None:
    """Poll the listing until no job is queued or running (a guard, not a timing check)."""
    deadline = time.monotonic() + 240
    while rest.get("jobs", params={"pending": "true", "limit": 1}).json()["count"]:
        assert time.monotonic() < deadline, "jobs still pending after 240 s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def fleet(api_server: Server) -> Fleet:
    """48 Bell sampler jobs on fake_manila@aer_ideal and 4 estimator jobs on
    ideal_5q@aer_ideal, submitted over REST (fast) and run to completion."""
    rest = RestClient(api_server.process)
    bell = sampler_job_body(MANILA, bell_isa(), shots=20)
    ids, tags, estimator = [], {}, []
    for i in range(SAMPLER_JOBS):
        job_tags = ["bulk", "batch-a" if i % 2 == 0 else "batch-b"]
        if i % 3 == 0:
            job_tags.append("third")
        job_id = rest.submit({**bell, "tags": job_tags})
        ids.append(job_id)
        tags[job_id] = job_tags
        if i % ESTIMATOR_EVERY == ESTIMATOR_EVERY - 1:
            job_id = rest.submit(_estimator_body())
            ids.append(job_id)
            tags[job_id] = ["est"]
            estimator.append(job_id)
    _wait_until_none_pending(rest)
    listing = rest.get("jobs", params={"limit": 1000, "sort": "ASC"}).json()
    assert [j["id"] for j in listing["jobs"]] == ids
    assert {j["state"]["status"] for j in listing["jobs"]} == {"Completed"}
    return Fleet(ids, tags, estimator, {j["id"]: j["created"] for j in listing["jobs"]})


def _ids(jobs: list[Any]) -> list[str]:
    return [job.job_id() for job in jobs]


def test_limit_and_skip_page_through_every_job_once(fleet: Fleet, client) -> None:
    """``service.jobs(limit, skip)`` pages cover all 52 jobs newest first with no overlap or
    gap; ``limit=None`` pages by itself; ``descending=False`` is oldest first."""
    expected = fleet.newest_first()
    assert len(expected) == SAMPLER_JOBS + SAMPLER_JOBS // ESTIMATOR_EVERY == 52
    pages = [
        _ids(client.jobs(limit=10, skip=skip, created_before=fleet.end))
        for skip in range(0, 60, 10)
    ]
    assert [len(page) for page in pages] == [10, 10, 10, 10, 10, 2]
    assert [job for page in pages for job in page] == expected
    assert _ids(client.jobs(limit=None, created_before=fleet.end)) == expected
    oldest = _ids(client.jobs(limit=7, skip=3, descending=False, created_before=fleet.end))
    assert oldest == fleet.ids[3:10]


def test_each_filter_of_service_jobs(fleet: Fleet, client) -> None:
    """backend_name, program_id, job_tags (all of them), pending, session_id and an inclusive
    created_after/created_before window each select exactly the jobs they name."""
    end = fleet.end
    only = {"limit": None, "created_before": end}
    assert _ids(client.jobs(backend_name="ideal_5q@aer_ideal", **only)) == fleet.newest_first(
        fleet.estimator
    )
    assert _ids(client.jobs(program_id="estimator", **only)) == fleet.newest_first(fleet.estimator)
    samplers = [j for j in fleet.ids if j not in fleet.estimator]
    assert _ids(client.jobs(program_id="sampler", **only)) == fleet.newest_first(samplers)
    both = [j for j, tags in fleet.tags.items() if {"batch-a", "third"} <= set(tags)]
    assert 0 < len(both) < len(samplers)
    assert _ids(client.jobs(job_tags=["batch-a", "third"], **only)) == fleet.newest_first(both)
    assert _ids(client.jobs(job_tags=["est"], **only)) == fleet.newest_first(fleet.estimator)
    assert _ids(client.jobs(pending=False, **only)) == fleet.newest_first()
    assert client.jobs(pending=True, **only) == []
    assert client.jobs(session_id="no-such-session", **only) == []

    start, stop = (datetime.fromisoformat(fleet.created[fleet.ids[k]]) for k in (10, 20))
    window = client.jobs(created_after=start, created_before=stop, descending=False, limit=None)
    assert _ids(window) == fleet.ids[10:21]  # both ends included
    local_start = start.astimezone().replace(tzinfo=None)  # the naive local time users pass
    assert _ids(client.jobs(created_after=local_start, **only)) == fleet.newest_first(
        fleet.ids[10:]
    )
    job = window[0]
    assert job.primitive_id == "sampler"
    assert job.backend().name == MANILA
    assert job.tags == fleet.tags[job.job_id()]


def test_a_jobs_logs_metrics_usage_and_properties(fleet: Fleet, client) -> None:
    """Through the client: logs name the run; metrics have ordered timestamps; ``usage()`` is
    the metrics' ``qpu_charge_time_seconds``; ``properties()`` are the calibration in force
    when the job ran (fake_manila's one), and None on a simulator."""
    job = client.job(fleet.ids[0])
    assert job.status() == "DONE"
    assert f"Running sampler on {MANILA}" in job.logs()
    metrics = job.metrics()
    stamps = metrics["timestamps"]
    assert stamps["created"] <= stamps["running"] <= stamps["finished"]
    assert metrics["usage"]["qpu_charge_time_seconds"] > 0
    assert job.usage() == metrics["usage"]["qpu_charge_time_seconds"]
    properties = job.properties()
    assert properties is not None
    assert properties.backend_name == MANILA
    assert properties.calibration_id == MANILA_CALIBRATION
    assert len(properties.qubits) == 5
    assert client.job(fleet.estimator[0]).properties() is None


def test_run_with_a_calibration_id_then_update_tags(api_server: Server, client) -> None:
    """A backend made with its calibration id runs jobs (the client sends the id with each);
    ``update_tags`` replaces the tags, and the tag filter then finds the job by them."""
    backend = client.backend(MANILA, calibration_id=MANILA_CALIBRATION)
    assert backend.calibration_id == MANILA_CALIBRATION
    sampler = SamplerV2(mode=backend)
    sampler.options.environment.job_tags = ["first"]
    job = sampler.run([transpile(bell_circuit(), backend=backend)], shots=30)
    assert sum(job.result()[0].data.meas.get_counts().values()) == 30
    assert set(job.update_tags(["renamed", "again"])) == {"renamed", "again"}
    assert _ids(client.jobs(job_tags=["renamed"])) == [job.job_id()]
    assert client.jobs(job_tags=["first"]) == []
    with pytest.raises(QiskitBackendNotFoundError):  # the server's 404 is logged as a warning
        client.backend(MANILA, calibration_id="nope")


def test_private_job_through_the_client(api_server: Server, client) -> None:
    """A private job (``environment.private``) returns its result once: the params are never
    returned and are gone from the database once it finished, the result is gone once read,
    and a second read is IBM's empty result (``None``). A job that is not private keeps both."""
    backend = client.backend(MANILA)
    circuit = transpile(bell_circuit(), backend=backend)
    private = SamplerV2(mode=backend)
    private.options.environment.private = True
    job = private.run([circuit], shots=40)
    assert sum(job.result()[0].data.meas.get_counts().values()) == 40
    assert job.private is True
    assert job.inputs == {}
    assert client.job(job.job_id()).result() is None
    with sqlite3.connect(api_server.process.db_path) as db:
        params, result = db.execute(
            "SELECT params, result FROM jobs WHERE id = ?", (job.job_id(),)
        ).fetchone()
    assert (params, result) == ("{}", None)

    public = SamplerV2(mode=backend).run([circuit], shots=40)
    public.result()
    assert "pubs" in public.inputs
    assert sum(client.job(public.job_id()).result()[0].data.meas.get_counts().values()) == 40


def test_delete_jobs_and_least_busy(api_server: Server, client) -> None:
    """``service.delete_job`` deletes a finished job (then RuntimeJobNotFound); a running job
    is refused (the server's 409, saying to cancel it first) and deleted once cancelled. While
    it runs it is the one pending job and makes its backend busier than its twin, which
    ``least_busy`` then picks."""
    rest = RestClient(api_server.process)
    done = rest.submit(sampler_job_body(MANILA, bell_isa(), shots=10))
    assert rest.wait_for(done, FINAL)["state"]["status"] == "Completed"
    client.delete_job(done)
    with pytest.raises(RuntimeJobNotFound):
        client.job(done)
    with pytest.raises(RuntimeJobNotFound):
        client.delete_job(done)

    running = rest.submit(sampler_job_body("ideal_32q@aer", endless_circuit(), 100_000))
    try:
        rest.wait_for(running, {"Running"})
        with pytest.raises(IBMRuntimeError, match=r"is Running and cannot be deleted.*cancel"):
            client.delete_job(running)
        assert _ids(client.jobs(pending=True)) == [running]
        fresh = connect(api_server.process.url, TOKEN)  # the client caches the busy-ness
        assert fresh.least_busy(min_num_qubits=30, simulator=True).name == "ideal_32q@aer_ideal"
    finally:
        assert rest.request("POST", f"jobs/{running}/cancel").status_code == 204
    assert rest.wait_for(running, FINAL)["state"]["status"] == "Cancelled"
    client.delete_job(running)
    assert rest.get(f"jobs/{running}").status_code == 404


def test_backends_filters_through_the_client(client) -> None:
    """``backends()`` filters on what the server's configurations and statuses say, matching
    the catalog: min_num_qubits, simulator, dynamic_circuits, operational and the name."""
    catalog = BackendCatalog()
    listed = [*catalog.names(), *catalog.device_names()]  # device names are backends too
    wide = {n for n in listed if catalog.get(n).metadata.n_qubits >= 30}
    assert {b.name for b in client.backends(min_num_qubits=30, simulator=True)} == {
        "ideal_32q@aer",
        "ideal_32q@aer_ideal",
    }
    real = {b.name for b in client.backends(min_num_qubits=30, simulator=False)}
    assert real == {n for n in wide if not n.startswith("ideal_")} and real
    dynamic = {b.name for b in client.backends(min_num_qubits=30, dynamic_circuits=True)}
    assert dynamic == {
        n for n in wide
        if "if_else" in catalog.configuration(n).get("supported_instructions", [])
        or n.startswith("ideal_")
    }  # fmt: skip
    assert 0 < len(dynamic) < len(wide)
    assert {b.name for b in client.backends(min_num_qubits=100, operational=True)} == {
        n for n in wide if catalog.get(n).metadata.n_qubits >= 100
    }
    assert [b.name for b in client.backends(name="fake_manila@aer")] == ["fake_manila@aer"]


def test_instance_usage_through_the_client(client) -> None:
    """``service.usage()`` reads this server's instance usage: no limit, none reached."""
    usage = client.usage()
    assert usage["instance_id"] == "jupyter-qiskit-runtime"
    assert usage["usage_limit_reached"] is False
    assert usage["usage_limit_seconds"] is None


def test_jobs_are_there_after_a_restart(fleet: Fleet, api_server: Server) -> None:
    """A new server process on the same database serves the same jobs to a new client:
    ``service.job(id)`` with its result, and the whole listing."""
    restarted = api_server.restart()
    client = connect(restarted.url, TOKEN)
    job = client.job(fleet.ids[0])
    assert job.status() == "DONE"
    assert job.tags == fleet.tags[fleet.ids[0]]
    assert set(job.result()[0].data.meas.get_counts()) <= {"00", "11"}
    assert _ids(client.jobs(limit=None, created_before=fleet.end)) == fleet.newest_first()

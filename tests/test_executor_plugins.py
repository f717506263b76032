"""Executors configured for real server processes: a config file, the command line, plug-ins,
a GPU executor where none can run, and a per-executor concurrency limit, through the client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from qiskit import QuantumCircuit, transpile
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError

from jupyter_qiskit_runtime import connect
from jupyter_qiskit_runtime.execution.executors.custatevec import CuStateVecExecutor

from .circuits import bell_circuit, endless_circuit, sampler_job_body
from .rest import FINAL, RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PLUGINS = Path(__file__).parent / "plugins"

#: The executors of the config-file server: a plug-in's, one limited to a job at a time, and
#: custatevec, which cannot run without a GPU.
CONFIGURED = {
    "aer_ideal": {"type": "aer", "noise": False},
    "basic": {"type": "example", "max_qubits": 8},
    "solo": {"type": "aer", "noise": False, "max_concurrent_jobs": 1, "threads": 1},
    "custatevec": {"type": "custatevec"},
}


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example plug-ins installed by pip into a directory of their own, put on ``sys.path``
    (so the servers started here, and their workers, have it on their ``PYTHONPATH``): the
    example executor and one that raises when it is imported. Nothing is installed in the
    project's virtual environment."""
    target = tmp_path_factory.mktemp("plugins")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--target", str(target),
            str(PLUGINS / "example_executor"), str(PLUGINS / "broken_executor"),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(target))
        yield target


@pytest.fixture(scope="module")
def configured(
    tmp_path_factory: pytest.TempPathFactory, plugin_path: Path
) -> Iterator[ServerProcess]:
    """A server whose executors come from a config file in its JUPYTER_CONFIG_DIR."""
    workdir = tmp_path_factory.mktemp("configured")
    config_dir = workdir / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"QiskitRuntimeApp": {"executors": CONFIGURED, "pool_size": 2}})
    )
    with ServerProcess(workdir, "test-token") as server:
        yield server


def _bell_for(backend) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return transpile(circuit, backend=backend, optimization_level=1, seed_transpiler=3)


def test_config_file_sets_the_executors_and_so_the_backends(configured) -> None:
    """The config file's executors replace the defaults: every backend ends with one of the
    executors that can run, and GET /v1 lists them with their type, settings and capabilities."""
    rest = RestClient(configured)
    names = [d["name"] for d in rest.get("backends").json()["devices"]]
    suffixes = {name.rpartition("@")[2] for name in names}
    gpu_here = CuStateVecExecutor("custatevec").availability() is None
    assert suffixes == {"aer_ideal", "basic", "solo", *(["custatevec"] if gpu_here else [])}
    assert "fake_manila@basic" in names and "fake_manila@aer" not in names
    executors = {e["name"]: e for e in rest.get("").json()["executors"]}
    assert executors["basic"]["type"] == "example"
    assert executors["basic"]["capabilities"]["max_qubits"] == 8
    assert executors["basic"]["capabilities"]["noise"] is False
    assert executors["solo"]["max_concurrent_jobs"] == 1
    assert executors["solo"]["settings"]["threads"] == 1
    assert executors["aer_ideal"]["capabilities"]["devices"] == ["CPU"]


def test_plugin_executor_runs_a_sampler_job_through_the_client(configured) -> None:
    """The example plug-in's executor runs a Bell pair on BasicSimulator, end to end through
    the official client: 00 and 11 only, and the job's metrics and logs name the plug-in."""
    service = connect(configured.url, configured.token)
    backend = service.backend("fake_manila@basic")
    assert backend.num_qubits == 5
    job = SamplerV2(mode=backend).run([_bell_for(backend)], shots=300)
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 300
    assert job.metrics()["simulator"]["executor"] == "basic"
    assert "BasicSimulator runs the statevector of 5 qubits (example plug-in)" in job.logs()


def test_plugin_executor_can_refuse_a_job(configured) -> None:
    """A plug-in's plan may refuse a job: the job fails with its reason."""
    service = connect(configured.url, configured.token)
    backend = service.backend("ideal_20q@basic")
    wide = QuantumCircuit(12)
    wide.h(range(12))
    wide.measure_all()
    job = SamplerV2(mode=backend).run([wide], shots=10)
    with pytest.raises(RuntimeJobFailureError, match="runs at most 8 qubits; this job has 12"):
        job.result()


def test_broken_plugin_is_logged_and_skipped(configured) -> None:
    """A plug-in whose module raises on import is skipped with a log line; the server runs."""
    log = configured.log_text()
    assert "Executor plug-in 'broken' = broken_executor:BrokenExecutor" in log
    assert "could not be loaded and is skipped: RuntimeError: this executor plug-in is broken" in (
        log
    )
    assert requests.get(configured.api, headers=configured.headers(), timeout=10).ok


def test_gpu_executor_without_a_gpu_is_a_clear_startup_error_and_a_404(configured) -> None:
    """custatevec configured where it cannot run: the start-up log says why and what to install,
    GET /v1 lists it as unavailable, and a job for one of its backends is a 404 with the reason
    (the client raises it before anything runs). Where it can run, it is simply listed."""
    reason = CuStateVecExecutor("custatevec").availability()
    rest = RestClient(configured)
    info = rest.get("").json()
    if reason is None:  # a machine with a GPU and Aer's GPU build
        assert "custatevec" in {e["name"] for e in info["executors"]}
        return
    assert "Executor 'custatevec' (QiskitRuntimeApp.executors) is left out" in (
        configured.log_text()
    )
    assert {"name": "custatevec", "reason": reason} in info["unavailable_executors"]
    response = rest.post("jobs", json=sampler_job_body("fake_manila@custatevec", bell_circuit()))
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "Executor 'custatevec' cannot run on this server" in message
    assert reason in message
    service = connect(configured.url, configured.token)
    with pytest.raises(QiskitBackendNotFoundError):  # the client's own lookup: not listed
        service.backend("fake_manila@custatevec")


def test_unknown_executor_is_a_404_naming_the_executors(configured) -> None:
    """A job for an executor that is not configured is a 404 that names those that are."""
    response = RestClient(configured).post(
        "jobs", json=sampler_job_body("fake_manila@aer", bell_circuit())
    )
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "This server has no executor 'aer'." in message
    assert "executors: aer_ideal, basic, solo" in message


def test_executor_concurrency_limit_holds_its_jobs_not_the_others(configured) -> None:
    """solo runs one job at a time: its second job waits while the first runs, though the pool
    has room, and a job of another executor submitted after it runs at once. Backend status and
    GET /v1 count the executor's unfinished jobs: a backend's queue length is what a new job on
    it waits behind, every unfinished job of the executors that share its resource
    (docs/backends.md)."""
    rest = RestClient(configured)
    blocker = rest.submit(sampler_job_body("ideal_20q@solo", endless_circuit(), shots=100_000))
    try:
        rest.wait_for(blocker, {"Running"})
        waiting = rest.submit(sampler_job_body("ideal_5q@solo", bell_circuit()))
        other = rest.submit(sampler_job_body("ideal_5q@aer_ideal", bell_circuit()))
        assert rest.wait_for(other, FINAL)["state"]["status"] == "Completed"
        assert rest.status(waiting) == "Queued"
        status = rest.get("backends/ideal_5q@solo/status").json()
        assert status["length_queue"] == 2
        assert status["executor"] == "solo" and status["executor_queue_length"] == 2
        listed = {e["name"]: e for e in rest.get("").json()["executors"]}
        assert listed["solo"]["queue_length"] == 2
    finally:
        assert rest.post(f"jobs/{blocker}/cancel").status_code == 204
    assert rest.wait_for(waiting, FINAL)["state"]["status"] == "Completed"


def test_command_line_executors_change_the_backends(tmp_path: Path) -> None:
    """Executors given on the command line, one per option as JSON text, are the only ones, with
    their settings; a Sampler job runs on one and its metrics name it."""
    entry = json.dumps({"type": "aer", "noise": False, "precision": "single", "threads": 1})
    with ServerProcess(
        tmp_path, "test-token", "--QiskitRuntimeApp.executors", f"aer_fast={entry}"
    ) as server:
        rest = RestClient(server)
        names = {d["name"] for d in rest.get("backends").json()["devices"]}
        assert {name.rpartition("@")[2] for name in names} == {"aer_fast"}
        (executor,) = rest.get("").json()["executors"]
        assert executor["settings"]["precision"] == "single"
        assert "single precision, 1 thread" in executor["description"]
        service = connect(server.url, server.token)
        backend = service.backend("fake_manila@aer_fast")
        job = SamplerV2(mode=backend).run([_bell_for(backend)], shots=100)
        assert set(job.result()[0].data.meas.get_counts()) <= {"00", "11"}
        assert job.metrics()["simulator"]["executor"] == "aer_fast"

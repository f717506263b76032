"""Code written for IBM Quantum, through the official client against a real server process:
IBM device names, ``least_busy``, and answers shaped like IBM's.

Each test names the client code that reads the field (qiskit-ibm-runtime 0.51):

- ``QiskitRuntimeService.backend(name)`` lists ``/backends``, keeps the entry named ``name`` and
  builds the backend from ``/backends/{name}/configuration``, whose ``backend_name`` must be
  ``name``; ``IBMBackend.physical_qubits`` is the listing entry's ``physical_qubits``.
- ``least_busy`` sorts the listed candidates by ``queue_length`` (a stable sort: the listing's
  order breaks ties) and takes the first.
- ``usage()`` returns ``/instances/usage`` as it is, computing ``usage_remaining_seconds`` only
  when the instance has a limit.
- ``RuntimeJobV2.result()`` returns ``None`` for an empty result text (a private job's result
  after its one read).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from qiskit_ibm_runtime import SamplerV2, Session
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from .circuits import bell_isa, endless_circuit
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: The filters of IBM's tutorials.
TUTORIAL_FILTERS = {"simulator": False, "operational": True, "min_num_qubits": 100}


@pytest.fixture(scope="module")
def listing(service) -> list[dict]:
    """The server's ``/backends`` entries, as the client reads them."""
    return list(service._active_api_client.list_backends())


def test_device_name_runs_on_its_virtual_backend_and_is_recorded_there(service) -> None:
    """``service.backend("ibmq_manila")`` is the device, by its name; its job runs on, and is
    recorded as, ``fake_manila@aer`` (the default device executor); listing jobs by the device
    name finds it, and a session on it runs there too."""
    device = service.backend("ibmq_manila")
    assert device.name == "ibmq_manila"
    assert device.num_qubits == 5 and device.physical_qubits == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert device.coupling_map == FakeManilaV2().coupling_map
    job = SamplerV2(mode=device).run([bell_isa()], shots=200)
    assert job.backend().name == "fake_manila@aer"
    assert sum(job.result()[0].data.meas.get_counts().values()) == 200
    assert service.job(job.job_id()).backend().name == "fake_manila@aer"
    by_device = service.jobs(backend_name="ibmq_manila", limit=50)
    assert job.job_id() in {j.job_id() for j in by_device}
    with Session(backend=device) as session:
        assert session.details()["backend_name"] == "fake_manila@aer"


def test_unknown_device_name_is_not_found_by_the_client(service) -> None:
    """A name that is neither a backend nor a device is still unknown."""
    from qiskit.providers.exceptions import QiskitBackendNotFoundError

    with pytest.raises(QiskitBackendNotFoundError):
        service.backend("ibm_nowhere")


def test_least_busy_with_tutorial_filters_takes_the_soonest_backend(service, listing) -> None:
    """Idle, every backend has the same queue length; least_busy then takes the first listed
    candidate: noise-free before noisy, widest first. With a filter for noisy backends it
    takes the widest noisy virtual backend, before the device names."""
    chosen = service.least_busy(**TUTORIAL_FILTERS)
    wide = [d for d in listing if d["qubits"] >= 100]
    assert chosen.name == wide[0]["name"]
    assert chosen.name.endswith("@aer_ideal")
    assert chosen.num_qubits == max(d["qubits"] for d in listing)
    assert chosen.physical_qubits == chosen.num_qubits
    noisy = service.least_busy(min_num_qubits=100, filters=lambda b: b.name.endswith("@aer"))
    assert noisy.name.endswith("@aer") and noisy.num_qubits == chosen.num_qubits


@pytest.mark.parametrize(
    ("name", "qubits"),
    [("ideal_5q@aer_ideal", 5), ("fake_kingston@aer_ideal", 156), ("ibm_kingston", 156)],
)
def test_physical_qubits_is_an_int(service, listing, name, qubits) -> None:
    """``backend.physical_qubits`` (the listing entry's ``physical_qubits``) is an int, as
    IBM's, on every kind of backend; every listing entry has it (the client reads it from there
    for every backend it builds)."""
    assert service.backend(name).physical_qubits == qubits
    assert all(isinstance(d["physical_qubits"], int) for d in listing)


def test_usage_remaining_seconds_is_an_int(service) -> None:
    """``service.usage()["usage_remaining_seconds"]`` is an int, as IBM's, and no limit is
    reached."""
    usage = service.usage()
    assert isinstance(usage["usage_remaining_seconds"], int)
    assert usage["usage_remaining_seconds"] > 0
    assert usage["usage_limit_reached"] is False


def test_private_job_result_reads_once_then_is_empty(service) -> None:
    """A private job's second ``result()`` is IBM's empty, falsy result (``None``), not an
    error."""
    sampler = SamplerV2(mode=service.backend("fake_manila@aer_ideal"))
    sampler.options.environment.private = True
    job = sampler.run([bell_isa()], shots=100)
    first = job.result()
    assert set(first[0].data.meas.get_counts()) <= {"00", "11"}
    assert not job.result()
    assert job.result() is None


# -- queue lengths --------------------------------------------------------------------------

#: The noise-free executor runs one job at a time: it queues apart from the worker pool.
SPLIT_EXECUTORS = {
    "aer": {"type": "aer", "noise": True},
    "aer_ideal": {"type": "aer", "noise": False, "max_concurrent_jobs": 1},
}


@pytest.fixture(scope="module")
def split_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose noise-free executor queues apart from the noisy one; two job slots."""
    with ServerProcess(
        tmp_path_factory.mktemp("split-queues"),
        "test-token",
        *(
            arg
            for name, entry in SPLIT_EXECUTORS.items()
            for arg in ("--QiskitRuntimeApp.executors", f"{name}={json.dumps(entry)}")
        ),
        "--QiskitRuntimeApp.pool_size=2",
    ) as proc:
        yield proc


def test_least_busy_avoids_an_executor_with_pending_work(split_server, tmp_path: Path) -> None:
    """With a job running on the noise-free executor, its backends report it as pending work
    and least_busy takes a noisy backend, which runs a job at once; once the job is cancelled,
    the noise-free backends are the least busy again."""
    from jupyter_qiskit_runtime import connect

    service = connect(split_server.url, split_server.token)
    blocker = SamplerV2(mode=service.backend("ideal_32q@aer_ideal")).run(
        [endless_circuit()], shots=100_000
    )
    try:
        busy = service.backend("fake_kingston@aer_ideal").status()
        assert busy.pending_jobs == 1
        assert service.backend("ibm_kingston").status().pending_jobs == 0
        # A new service: least_busy reads the listing its service fetched last.
        chosen = connect(split_server.url, split_server.token).least_busy(min_num_qubits=100)
        assert chosen.name.endswith("@aer") and chosen.num_qubits == 156
    finally:
        blocker.cancel()
    blocker.wait_for_final_state(timeout=60)
    again = connect(split_server.url, split_server.token).least_busy(min_num_qubits=100)
    assert again.name.endswith("@aer_ideal")

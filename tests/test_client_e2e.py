"""The official client against a real Jupyter server process, through ``connect()``."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, SamplerV2
from qiskit_ibm_runtime.exceptions import (
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobNotFound,
)

from .circuits import entangling_circuit, sampler_job_body
from .rest import FINAL, RestClient

SHOTS = 4000
#: Five standard deviations of a fair binomial over SHOTS trials: a false failure is ~1 in 1.7M.
TOLERANCE = 5 * (SHOTS * 0.25) ** 0.5 / SHOTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def manila(service):
    """The noise-free and the noisy fake_manila, and a Bell circuit transpiled once for it."""
    ideal = service.backend("fake_manila@aer_ideal")
    noisy = service.backend("fake_manila@aer")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    measured = bell.measure_all(inplace=False)
    return {
        "ideal": ideal,
        "noisy": noisy,
        "bell": transpile(measured, backend=ideal, optimization_level=1, seed_transpiler=7),
        "bell_unmeasured": transpile(bell, backend=ideal, optimization_level=1, seed_transpiler=7),
    }


def test_backend_names_and_target(manila) -> None:
    """The client builds a backend object whose name and target come from the server."""
    assert manila["ideal"].name == "fake_manila@aer_ideal"
    assert manila["ideal"].num_qubits == 5
    assert "cx" in manila["ideal"].target.operation_names


def test_sampler_bell_ideal_is_half_00_half_11(manila) -> None:
    """On @aer_ideal a Bell pair gives only 00 and 11, each about half the shots."""
    job = SamplerV2(mode=manila["ideal"]).run([manila["bell"]], shots=SHOTS)
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == SHOTS
    assert abs(counts["00"] / SHOTS - 0.5) < TOLERANCE


def test_sampler_bell_noisy_is_mostly_00_11_with_some_noise(manila) -> None:
    """On @aer the backend's noise model applies: mostly 00 and 11, some 01 and 10."""
    sampler = SamplerV2(mode=manila["noisy"])
    sampler.options.simulator.seed_simulator = 1234
    counts = sampler.run([manila["bell"]], shots=SHOTS).result()[0].data.meas.get_counts()
    correlated = counts.get("00", 0) + counts.get("11", 0)
    assert correlated / SHOTS > 0.85
    assert correlated < SHOTS, "a noisy backend must show some errors"


def test_estimator_zz_is_one_on_ideal(manila) -> None:
    """EstimatorV2 gives <ZZ> = 1 for a Bell pair on @aer_ideal."""
    circuit = manila["bell_unmeasured"]
    observable = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    result = EstimatorV2(mode=manila["ideal"]).run([(circuit, observable)]).result()
    assert result[0].data.evs == pytest.approx(1.0, abs=0.05)


def test_unknown_job_is_not_found(service) -> None:
    """A job id the server does not know is the client's RuntimeJobNotFound."""
    with pytest.raises(RuntimeJobNotFound, match="no-such-job"):
        service.job("no-such-job")


def test_server_error_message_reaches_the_user(manila) -> None:
    """Cancelling a finished job is a 409 whose message the client shows to its user."""
    job = SamplerV2(mode=manila["ideal"]).run([manila["bell"]], shots=10)
    job.result()
    with pytest.raises(RuntimeInvalidStateError, match="is Completed and cannot be cancelled"):
        job.cancel()


def test_ideal_all_to_all_backend_accepts_unrouted_circuits(service) -> None:
    """An ideal simulator has no coupling map: a circuit using any qubit pair is ISA for it."""
    backend = service.backend("ideal_5q@aer_ideal")
    circuit = QuantumCircuit(5)
    circuit.h(0)
    circuit.cx(0, 4)
    circuit.measure_all()
    isa = transpile(circuit, backend=backend, optimization_level=0)
    assert isa.count_ops().get("swap", 0) == 0
    counts = SamplerV2(mode=backend).run([isa], shots=200).result()[0].data.meas.get_counts()
    assert set(counts) <= {"00000", "10001"}


def test_job_failing_in_its_worker_reports_its_error_and_logs_the_traceback(
    server, service
) -> None:
    """A job refused inside its worker (a 32-qubit entangling circuit fits no memory budget
    here) fails with a readable reason, which the client raises and reports; its results text
    is that error, never a traceback with the server's paths; the traceback is in its logs."""
    rest = RestClient(server)
    job_id = rest.submit(sampler_job_body("ideal_32q@aer_ideal", entangling_circuit(32)))
    state = rest.wait_for(job_id, FINAL)["state"]
    assert state["status"] == "Failed" and state["reason"].startswith("SimulationRefused: ")
    assert rest.get(f"jobs/{job_id}/results").text == state["reason"]
    job = service.job(job_id)
    with pytest.raises(RuntimeJobFailureError, match="GiB") as failure:
        job.result()
    assert "Traceback" not in str(failure.value)
    message = job.error_message()
    assert message is not None and "GiB" in message and "Traceback" not in message
    assert "Traceback (most recent call last)" in job.logs()


def test_options_not_applied_are_named_in_the_logs(manila) -> None:
    """An option this server does not apply is accepted and named in the job's logs."""
    sampler = SamplerV2(mode=manila["ideal"])
    sampler.options.twirling.enable_gates = True
    sampler.options.simulator.seed_simulator = 11
    job = sampler.run([manila["bell"]], shots=50)
    assert sum(job.result()[0].data.meas.get_counts().values()) == 50
    logs = job.logs()
    assert "Options not applied by this server: twirling.enable_gates" in logs
    assert "seed_simulator" not in logs

"""The custatevec executor on a real GPU: the Sampler, Estimator and Executor tests of the CPU
executors, against ``@custatevec``, through the official client and a real server.

They need an NVIDIA GPU and Qiskit Aer's GPU build (``jupyter-qiskit-runtime[gpu]``, see
docs/executors.md). Where either is missing, every test here is skipped with the reason the
executor gives: that is the only skip of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, Executor, QuantumProgram, SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError

from jupyter_qiskit_runtime import connect
from jupyter_qiskit_runtime.execution.executors.custatevec import CuStateVecExecutor

from .circuits import bell_isa, sampler_job_body
from .rest import FINAL, RestClient
from .servers import ServerProcess

SHOTS = 4000
#: Five standard deviations of a binomial with p = 1/2 over SHOTS trials.
TOLERANCE = 5 * (SHOTS * 0.25) ** 0.5 / SHOTS

_REASON = CuStateVecExecutor("custatevec").availability()
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(
        _REASON is not None, reason=f"the custatevec executor cannot run here: {_REASON}"
    ),
]


@pytest.fixture(scope="module")
def gpu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with CPU and GPU executors; custatevec_small has a 1 GiB GPU to refuse jobs."""
    executors = (
        '{"aer_ideal": {"type": "aer", "noise": false}, "custatevec": {}, '
        '"custatevec_noisy": {"type": "custatevec", "noise": true}, '
        '"custatevec_small": {"type": "custatevec", "device_memory_bytes": 1073741824}}'
    )
    with ServerProcess(
        tmp_path_factory.mktemp("gpu"),
        "test-token",
        f"--QiskitRuntimeApp.executors={executors}",
        "--QiskitRuntimeApp.pool_size=2",
        "--QiskitRuntimeApp.prestart_workers=2",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def service(gpu_server):
    """The client, through connect()."""
    return connect(gpu_server.url, gpu_server.token)


def _tilted_ghz(width: int, theta: float = 0.6) -> QuantumCircuit:
    """ry(theta) then a CNOT chain: all zeros with probability cos^2(theta/2), else all ones.
    Not Clifford, so it runs as a statevector."""
    circuit = QuantumCircuit(width)
    circuit.ry(theta, 0)
    for q in range(width - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def test_gpu_executor_is_listed_with_its_device(gpu_server) -> None:
    """GET /v1 lists custatevec on the GPU with the widest statevector its share holds."""
    listed = {e["name"]: e for e in RestClient(gpu_server).get("").json()["executors"]}
    gpu = listed["custatevec"]
    assert gpu["type"] == "custatevec" and gpu["capabilities"]["devices"] == ["GPU"]
    assert gpu["capabilities"]["max_qubits"] >= 26
    assert gpu["max_concurrent_jobs"] == 1


def test_sampler_bell_on_the_gpu(service) -> None:
    """A Bell pair on fake_manila@custatevec: 00 and 11, each about half; Aer ran a
    statevector on the GPU."""
    backend = service.backend("fake_manila@custatevec")
    job = SamplerV2(mode=backend).run([bell_isa()], shots=SHOTS)
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert abs(counts["00"] / SHOTS - 0.5) < TOLERANCE
    simulator = job.metrics()["simulator"]
    assert simulator["executor"] == "custatevec"
    assert simulator["method"] == "statevector" and simulator["device"] == "GPU"


def test_sampler_noisy_bell_on_the_gpu(service) -> None:
    """With the backend's noise, on the GPU: mostly 00 and 11, some errors."""
    sampler = SamplerV2(mode=service.backend("fake_manila@custatevec_noisy"))
    sampler.options.simulator.seed_simulator = 1234
    counts = sampler.run([bell_isa()], shots=SHOTS).result()[0].data.meas.get_counts()
    correlated = counts.get("00", 0) + counts.get("11", 0)
    assert 0.85 < correlated / SHOTS < 1


def test_sampler_wide_statevector_matches_the_cpu(service) -> None:
    """A 26-qubit non-Clifford circuit: GPU and CPU both give cos^2(0.3) of all zeros."""
    expected = np.cos(0.3) ** 2
    for name in ("ideal_32q@custatevec", "ideal_32q@aer_ideal"):
        backend = service.backend(name)
        circuit = transpile(_tilted_ghz(26), backend=backend, optimization_level=0)
        job = SamplerV2(mode=backend).run([circuit], shots=SHOTS)
        counts = job.result()[0].data.meas.get_counts()
        assert set(counts) == {"0" * 26, "1" * 26}
        assert abs(counts["0" * 26] / SHOTS - expected) < TOLERANCE, name


def test_estimator_zz_on_the_gpu(service) -> None:
    """EstimatorV2 gives <ZZ> = 1 and <XX> = 1 for a Bell pair on the GPU."""
    backend = service.backend("fake_manila@custatevec")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    isa = transpile(bell, backend=backend, optimization_level=1, seed_transpiler=7)
    observables = [SparsePauliOp(p).apply_layout(isa.layout) for p in ("ZZ", "XX")]
    result = EstimatorV2(mode=backend).run([(isa, observables)]).result()
    np.testing.assert_allclose(result[0].data.evs, [1.0, 1.0], atol=0.05)


def test_executor_program_on_the_gpu(service) -> None:
    """The executor program's Bell item on the GPU: a perfect Bell pair."""
    program = QuantumProgram(shots=SHOTS)
    program.append_circuit_item(bell_isa())
    result = Executor(mode=service.backend("fake_manila@custatevec")).run(program).result()
    bell = result[0]["meas"]
    assert np.array_equal(bell[:, 0], bell[:, 1])


def test_clifford_circuit_runs_on_the_cpu_stabilizer(service) -> None:
    """A 32-qubit GHZ is Clifford: the stabilizer method, which runs on the CPU, at any width."""
    backend = service.backend("ideal_32q@custatevec")
    ghz = _tilted_ghz(32, theta=np.pi / 2)
    job = SamplerV2(mode=backend).run([transpile(ghz, backend=backend)], shots=100)
    assert set(job.result()[0].data.meas.get_counts()) <= {"0" * 32, "1" * 32}
    assert job.metrics()["simulator"]["method"] == "stabilizer"


def test_statevector_over_the_gpu_share_is_refused(service) -> None:
    """custatevec_small's jobs may use 0.9 GiB: a 26-qubit statevector (1 GiB) is refused."""
    backend = service.backend("ideal_32q@custatevec_small")
    job = SamplerV2(mode=backend).run([transpile(_tilted_ghz(26), backend=backend)], shots=10)
    with pytest.raises(RuntimeJobFailureError, match="A statevector of 26 qubits needs 1 GiB"):
        job.result()


def test_one_gpu_job_at_a_time(gpu_server) -> None:
    """Two jobs for the GPU with two pool slots free: the second starts after the first ends."""
    rest = RestClient(gpu_server)
    ids = [
        rest.submit(sampler_job_body("ideal_32q@custatevec", _tilted_ghz(28), shots=1000))
        for _ in range(2)
    ]
    spans = []
    for job_id in ids:
        assert rest.wait_for(job_id, FINAL, timeout=300)["state"]["status"] == "Completed"
        stamps = rest.get(f"jobs/{job_id}/metrics").json()["timestamps"]
        spans.append([datetime.fromisoformat(stamps[k]) for k in ("running", "finished")])
    first, second = sorted(spans)
    assert first[1] <= second[0], "the GPU ran two jobs at once"

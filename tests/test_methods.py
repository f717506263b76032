"""The simulation method per job and the memory guard (execution/methods.py), against real Aer."""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.random import random_clifford_circuit
from qiskit.primitives import BackendSamplerV2
from qiskit.quantum_info import Operator, Statevector
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeFez, FakeKolkataV2, FakeSherbrooke

from jupyter_qiskit_runtime.execution.clifford import snap_clifford
from jupyter_qiskit_runtime.execution.errors import SimulationRefused
from jupyter_qiskit_runtime.execution.methods import (
    active_qubits,
    mps_memory_estimate,
    plan_simulation,
)

from .circuits import entangling_circuit
from .scale_circuits import transpiled_ghz

GIB = 2**30
STABILIZER_GATES = {
    "measure",
    "barrier",
    *AerSimulator(method="stabilizer").configuration().basis_gates,
}


@pytest.fixture(scope="module", autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def ghz(num_qubits: int) -> QuantumCircuit:
    qc = QuantumCircuit(num_qubits)
    qc.h(0)
    for q in range(num_qubits - 1):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def sample(circuit: QuantumCircuit, method: str, shots: int = 200) -> dict[str, int]:
    """Counts of the ``meas`` register, through BackendSamplerV2 as the workers run it."""
    sampler = BackendSamplerV2(backend=AerSimulator(method=method), options={"seed_simulator": 7})
    return sampler.run([circuit], shots=shots).result()[0].data.meas.get_counts()


def probabilities(circuit: QuantumCircuit) -> np.ndarray:
    """Exact outcome probabilities of a measured circuit, on its active qubits only."""
    active = active_qubits(circuit)
    small = QuantumCircuit(len(active), global_phase=circuit.global_phase)
    where = {circuit.qubits[q]: small.qubits[i] for i, q in enumerate(active)}
    for inst in circuit.data:
        if inst.operation.name not in ("measure", "barrier") and set(inst.qubits) <= set(where):
            small.append(inst.operation, [where[q] for q in inst.qubits])
    return Statevector(small).probabilities()


# Snapping transpiled Clifford circuits onto the stabilizer method


@pytest.mark.parametrize(
    ("backend", "num_qubits", "level"),
    [
        ("fake_kolkata", 27, 1),
        ("fake_kolkata", 27, 3),
        ("fake_fez", 156, 1),
        ("fake_sherbrooke", 127, 3),
    ],
)
def test_transpiled_ghz_runs_on_the_stabilizer_method(
    backend: str, num_qubits: int, level: int
) -> None:
    circuit = transpiled_ghz(backend, level)
    plan = plan_simulation([circuit], noisy=False, shots=200, budget_bytes=GIB)
    assert plan.method == "stabilizer", plan.reason
    assert plan.active_qubits == num_qubits
    assert plan.memory_bytes < 2**20
    snapped = plan.circuits[0]
    assert set(snapped.count_ops()) <= STABILIZER_GATES
    assert snapped.cregs == circuit.cregs and snapped.layout == circuit.layout
    counts = sample(snapped, "stabilizer")
    assert set(counts) == {"0" * num_qubits, "1" * num_qubits}


def test_aer_refuses_level_3_sherbrooke_ghz_unless_snapped() -> None:
    """The reason for snapping: level 3 leaves angles that are not multiples of pi/2."""
    circuit = transpiled_ghz("fake_sherbrooke", 3)
    angles = [float(p) / (math.pi / 2) for inst in circuit.data for p in inst.operation.params]
    assert any(abs(a - round(a)) > 1e-3 for a in angles)
    result = AerSimulator(method="stabilizer").run(circuit, shots=10).result()
    assert not result.success and "invalid parameters" in result.status
    assert snap_clifford(circuit) is not None


def test_snapping_makes_angles_exact_and_keeps_the_unitary() -> None:
    qc = QuantumCircuit(3, global_phase=0.2)
    qc.rz(math.pi / 2 + 1e-15, 0)
    qc.sx(0)
    qc.rz(1.5 * math.pi - 1e-14, 0)
    qc.rzz(math.pi / 2, 0, 1)
    qc.ry(math.pi, 2)
    qc.ecr(2, 0)
    qc.u(math.pi / 2, 0, math.pi, 1)
    qc.iswap(1, 2)
    qc.rz(0.3, 1)  # moves through the control and cancels: the circuit is Clifford as a whole
    qc.cx(1, 2)
    qc.rz(-0.3, 1)
    snapped = snap_clifford(qc)
    assert snapped is not None
    assert set(snapped.count_ops()) <= STABILIZER_GATES - {"rz"}
    np.testing.assert_allclose(Operator(snapped).data, Operator(qc).data, atol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_snapping_keeps_the_statistics_of_transpiled_clifford_circuits(seed: int) -> None:
    rng = random.Random(seed)
    backend = (FakeKolkataV2, FakeSherbrooke, FakeFez)[seed % 3]()
    qc = random_clifford_circuit(rng.randint(3, 7), rng.randint(10, 30), seed=seed)
    qc.measure_all()
    pm = generate_preset_pass_manager(2 + seed % 2, backend=backend, seed_transpiler=seed)
    circuit = pm.run(qc)
    snapped = snap_clifford(circuit)
    assert snapped is not None
    np.testing.assert_allclose(probabilities(snapped), probabilities(circuit), atol=1e-9)


def test_dynamic_clifford_circuit_keeps_its_statistics() -> None:
    qc = QuantumCircuit(3, 4)
    qc.h(0)
    qc.rz(math.pi / 2 + 1e-12, 0)
    qc.cx(0, 1)
    qc.measure(0, 3)
    with qc.if_test((qc.clbits[3], 1)):
        qc.x(2)
        qc.sx(1)
    qc.reset(0)
    qc.h(0)
    qc.cz(0, 2)
    qc.measure(range(3), range(3))
    snapped = snap_clifford(qc)
    assert snapped is not None
    stabilizer = AerSimulator(method="stabilizer").run(snapped, shots=4000, seed_simulator=1)
    statevector = AerSimulator(method="statevector").run(qc, shots=4000, seed_simulator=2)
    a, b = stabilizer.result().get_counts(), statevector.result().get_counts()
    assert sum(abs(a.get(k, 0) - b.get(k, 0)) for k in a.keys() | b.keys()) / 8000 < 0.05


# Non-Clifford circuits: statevector, matrix product state, or refused


@pytest.mark.parametrize("gate", ["t", "rz"])
def test_non_clifford_circuit_uses_a_statevector(gate: str) -> None:
    qc = QuantumCircuit(4)
    qc.h(0)
    if gate == "t":
        qc.t(0)
    else:
        qc.rz(0.3, 0)
    qc.h(0)  # without it the rotation would only change a phase that measuring ignores
    for q in range(3):
        qc.cx(q, q + 1)
    qc.measure_all()
    assert snap_clifford(qc) is None
    plan = plan_simulation([qc], noisy=False, shots=100, budget_bytes=GIB)
    assert plan.method == "statevector"
    assert plan.memory_bytes == 16 * 2**4
    assert "not Clifford" in plan.reason
    assert plan.circuits[0] is qc


def test_rotation_that_measuring_ignores_is_dropped() -> None:
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.t(0)  # a diagonal that moves through the controls to the measurements
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.rz(0.3, 2)
    qc.measure_all()
    snapped = snap_clifford(qc)
    assert snapped is not None
    np.testing.assert_allclose(probabilities(snapped), probabilities(qc), atol=1e-12)


def test_parameterized_circuit_is_not_treated_as_clifford() -> None:
    theta = Parameter("theta")
    qc = QuantumCircuit(2)
    qc.rz(theta, 0)
    qc.cx(0, 1)
    qc.measure_all()
    plan = plan_simulation([qc], noisy=False, shots=10, budget_bytes=GIB, parameterized=[True])
    assert plan.method == "statevector"
    assert "parameterized" in plan.reason


def test_wide_low_entanglement_circuit_uses_matrix_product_state() -> None:
    qc = QuantumCircuit(60)
    for q in range(60):
        qc.h(q)
        qc.rz(0.1, q)
    for q in range(59):
        qc.cx(q, q + 1)
    qc.measure_all()
    plan = plan_simulation([qc], noisy=False, shots=100, budget_bytes=GIB)
    assert plan.method == "matrix_product_state"
    assert plan.active_qubits == 60
    assert plan.memory_bytes == mps_memory_estimate(qc) < 2**20
    counts = sample(qc, "matrix_product_state", shots=100)
    assert sum(counts.values()) == 100


def test_wide_entangling_circuit_is_refused_with_numbers() -> None:
    qc = QuantumCircuit(40)
    for layer in range(3):
        for q in range(40):
            qc.ry(0.2 + 0.01 * (q + layer), q)
        for q in range(20):
            qc.cx(q, 39 - q)
    qc.measure_all()
    with pytest.raises(SimulationRefused) as refused:
        plan_simulation([qc], noisy=False, shots=100, budget_bytes=GIB)
    message = str(refused.value)
    assert "1.64e+04 GiB for a statevector of 40 qubits" in message
    assert "matrix product state estimate" in message
    assert "the budget is 1 GiB" in message
    assert "at most 26 qubits" in message
    assert "worker_memory_limit" not in message  # no machine has 1.64e+04 GiB
    unlimited = plan_simulation([qc], noisy=False, shots=100, budget_bytes=0)
    assert unlimited.method == "statevector"
    assert unlimited.memory_bytes == 16 * 2**40


def test_shots_one_by_one_are_capped_to_the_budget() -> None:
    qc = QuantumCircuit(20, 20)
    qc.h(range(20))
    qc.rz(0.3, range(20))
    qc.measure(0, 0)  # a mid-circuit measurement: Aer runs every shot on a state of its own
    qc.cx(0, 1)
    qc.measure(range(20), range(20))
    state = 16 * 2**20
    plan = plan_simulation([qc], noisy=False, shots=100, budget_bytes=3 * state, threads=8)
    assert plan.max_parallel_shots == 3
    assert plan.run_options == {"method": "statevector", "max_parallel_shots": 3}
    assert plan.memory_bytes == 3 * state
    sampled = plan_simulation([qc], noisy=False, shots=2, budget_bytes=3 * state, threads=8)
    assert sampled.memory_bytes == 2 * state


# Active qubits, as Aer truncates them


def test_active_qubits_of_a_small_circuit_on_a_large_backend() -> None:
    backend = FakeKolkataV2()
    circuit = generate_preset_pass_manager(1, backend=backend, seed_transpiler=1).run(ghz(3))
    assert circuit.num_qubits == 27
    assert len(active_qubits(circuit)) == 3
    qc = circuit.copy()
    idle = [q for q in range(27) if q not in active_qubits(circuit)]
    qc.barrier()
    qc.delay(100, idle[0])
    qc.x(idle[1])  # acts on a qubit nothing measures: Aer drops it too
    assert len(active_qubits(qc)) == 3
    plan = plan_simulation([qc], noisy=False, shots=10, budget_bytes=GIB)
    assert plan.active_qubits == 3
    result = AerSimulator().run(qc, shots=10).result()
    assert result.results[0].metadata["num_qubits"] == 3


# Noisy simulation: Aer's automatic choice, and its memory


def noisy_case(shots: int, mid_measure: bool) -> tuple[QuantumCircuit, str, int]:
    """A 3-qubit non-Clifford circuit on fake_kolkata, and Aer's method and parallel shots."""
    backend = FakeKolkataV2()
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.t(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    if mid_measure:
        qc.measure(0, 0)
        qc.x(0)
    qc.measure(range(3), range(3))
    circuit = generate_preset_pass_manager(1, backend=backend, seed_transpiler=1).run(qc)
    metadata = backend.run(circuit, shots=shots, seed_simulator=1).result().results[0].metadata
    return circuit, metadata["method"], metadata["parallel_shots"]


@pytest.mark.parametrize(
    ("shots", "mid_measure"), [(8, False), (9, False), (100, False), (100, True)]
)
def test_noisy_estimate_follows_aers_choice(shots: int, mid_measure: bool) -> None:
    circuit, method, parallel = noisy_case(shots, mid_measure)
    plan = plan_simulation([circuit], noisy=True, shots=shots, budget_bytes=GIB)
    assert plan.method == "automatic" and "method" not in plan.run_options
    assert plan.expected_methods == (method,)
    assert plan.active_qubits == 3
    if method == "density_matrix":
        assert plan.memory_bytes == 16 * 4**3
    else:
        assert plan.memory_bytes == 16 * 2**3 * min(plan.max_parallel_shots, shots)
        assert parallel <= plan.max_parallel_shots


def test_noisy_chain_over_budget_runs_on_matrix_product_states() -> None:
    """A noisy 30-qubit chain (a GHZ with a T gate) needs a 16 GiB statevector: over a 1 GiB
    budget it is planned on matrix product states, shot by shot, with the method set."""
    qc = QuantumCircuit(30)
    qc.h(0)
    qc.t(0)
    for q in range(29):
        qc.cx(q, q + 1)
    qc.measure_all()
    plan = plan_simulation([qc], noisy=True, shots=100, budget_bytes=GIB)
    assert plan.method == "matrix_product_state"
    assert plan.run_options["method"] == "matrix_product_state"
    assert plan.memory_bytes <= GIB and "max_parallel_threads" not in plan.run_options
    assert "noisy statevector of 30 qubits would need 16 GiB" in plan.reason
    assert "shot by shot" in plan.reason


def test_wide_routed_ghz_is_measured_when_the_bound_is_too_loose() -> None:
    """A GHZ routed on a heavy-hex device: the circuit-only bound reaches the cap (terabytes),
    so the planner measures the bond dimension on one noise-free shot and plans noisy matrix
    product states within the budget."""
    circuit = transpiled_ghz("fake_sherbrooke", 1)
    assert mps_memory_estimate(circuit) > 4 * GIB
    plan = plan_simulation([circuit], noisy=True, shots=10, budget_bytes=4 * GIB)
    assert plan.method == "matrix_product_state" and plan.memory_bytes < 2**30
    assert "in a noise-free shot" in plan.reason


def brickwork(num_qubits: int, layers: int) -> QuantumCircuit:
    """Layers of ry rotations and cx on alternating neighbour pairs: the bond dimension doubles
    every other layer (a volume-law state)."""
    qc = QuantumCircuit(num_qubits)
    for layer in range(layers):
        for q in range(num_qubits):
            qc.ry(0.9 + 0.37 * q + 0.11 * layer, q)
        for q in range(layer % 2, num_qubits - 1, 2):
            qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def test_noisy_entangling_circuit_is_refused_with_what_would_work() -> None:
    """A circuit whose bond dimension reaches the probe's cap is refused; the message names the
    ideal variant, how many noisy qubits fit, and raising the limit, which would do here."""
    with pytest.raises(SimulationRefused) as refused:
        plan_simulation([brickwork(24, 30)], noisy=True, shots=100, budget_bytes=64 * 2**20)
    message = str(refused.value)
    assert "noisy simulation of 24 qubits needs about 256 MiB" in message
    assert "the budget is 64 MiB" in message and "@aer_ideal" in message
    assert "at most 22 qubits with noise" in message
    assert "bond dimension reaches 64 even without noise" in message
    assert "raise QiskitRuntimeApp.worker_memory_limit to at least 256 MiB" in message


def test_huge_refusal_never_advises_raising_the_limit() -> None:
    """A noise-free circuit that no memory could hold is refused without that advice."""
    with pytest.raises(SimulationRefused) as refused:
        plan_simulation([entangling_circuit(80, 2)], noisy=False, shots=10, budget_bytes=GIB)
    message = str(refused.value)
    assert "worker_memory_limit" not in message and "at most 26 qubits" in message

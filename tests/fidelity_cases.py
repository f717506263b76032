"""The circuits the fidelity tests sample, each with its textbook (noise-free) distribution.

Every case measures into one or more classical registers; ``ideal`` gives, per parameter set (one
entry for a circuit without parameters), the exact probability of each outcome of each register.
Circuits are transpiled once for ``fake_manila`` (5 qubits, linear coupling, dynamic circuits).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Parameter
from qiskit.circuit.library import QFTGate
from qiskit.quantum_info import Statevector


@dataclass(frozen=True)
class Case:
    """One circuit to sample: its name, logical circuit, parameter sets and exact distributions."""

    name: str
    circuit: QuantumCircuit
    parameter_sets: list[list[float]] | None
    ideal: list[dict[str, dict[str, float]]]


def _unitary_case(name: str, body: QuantumCircuit) -> Case:
    """A circuit measured once at the end into register ``meas``; exact from its statevector."""
    probabilities = Statevector(body).probabilities_dict()
    circuit = body.copy()
    circuit.measure_all()
    return Case(name, circuit, None, [{"meas": _significant(probabilities)}])


def _significant(probabilities: dict[str, float]) -> dict[str, float]:
    return {str(k): float(v) for k, v in probabilities.items() if v > 1e-12}


def _ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    return qc


def _w_state() -> QuantumCircuit:
    qc = QuantumCircuit(3)
    qc.ry(2 * math.acos(1 / math.sqrt(3)), 0)
    qc.ch(0, 1)
    qc.cx(1, 2)
    qc.cx(0, 1)
    qc.x(0)
    return qc


def _phase_estimation_of_t() -> QuantumCircuit:
    """Three counting qubits estimate the phase 1/8 of T on |1>: they read 001, always."""
    qc = QuantumCircuit(4)
    qc.x(3)
    qc.h([0, 1, 2])
    for k in range(3):
        for _ in range(2**k):
            qc.cp(math.pi / 4, k, 3)
    qc.append(QFTGate(3).inverse(), [0, 1, 2])
    return qc


def _grover_11() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h([0, 1])
    qc.cz(0, 1)
    qc.h([0, 1])
    qc.z([0, 1])
    qc.cz(0, 1)
    qc.h([0, 1])
    return qc


def _ansatz_case() -> Case:
    theta = [Parameter("a"), Parameter("b")]
    body = QuantumCircuit(2)
    body.ry(theta[0], 0)
    body.ry(theta[1], 1)
    body.cx(0, 1)
    sets = [[0.0, 0.0], [math.pi / 2, 0.0], [math.pi, math.pi / 2], [math.pi / 3, 2 * math.pi / 3]]
    ideal = []
    for values in sets:
        bound = body.assign_parameters(values)
        probabilities = Statevector(bound).probabilities_dict()
        ideal.append({"meas": _significant(probabilities)})
    circuit = body.copy()
    circuit.measure_all()
    return Case("ansatz_sweep", circuit, sets, ideal)


def _mid_circuit_case() -> Case:
    """Measure a superposed qubit mid-circuit and flip a second qubit when it read 1."""
    qr, cr = QuantumRegister(2), ClassicalRegister(2, "c")
    qc = QuantumCircuit(qr, cr)
    qc.h(0)
    qc.measure(0, cr[0])
    with qc.if_test((cr[0], 1)):
        qc.x(1)
    qc.measure(1, cr[1])
    return Case("mid_circuit_if", qc, None, [{"c": {"00": 0.5, "11": 0.5}}])


def _registers_case() -> Case:
    """Two registers: a Bell pair into ``pair`` and a flipped qubit into ``flag``."""
    qr = QuantumRegister(3)
    pair, flag = ClassicalRegister(2, "pair"), ClassicalRegister(1, "flag")
    qc = QuantumCircuit(qr, pair, flag)
    qc.h(0)
    qc.cx(0, 1)
    qc.x(2)
    qc.measure([0, 1], pair)
    qc.measure(2, flag)
    return Case("two_registers", qc, None, [{"pair": {"00": 0.5, "11": 0.5}, "flag": {"1": 1.0}}])


def _reset_case() -> Case:
    qc = QuantumCircuit(2)
    qc.x([0, 1])
    qc.reset(0)
    qc.measure_all()
    return Case("reset", qc, None, [{"meas": {"10": 1.0}}])


def _rotation() -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.ry(2 * math.pi / 3, 0)
    return qc


def _uniform() -> QuantumCircuit:
    qc = QuantumCircuit(3)
    qc.h([0, 1, 2])
    return qc


def cases() -> list[Case]:
    """The twelve fidelity cases."""
    return [
        _unitary_case("bell", _ghz(2)),
        _unitary_case("ghz3", _ghz(3)),
        _unitary_case("ghz5", _ghz(5)),
        _unitary_case("uniform3", _uniform()),
        _unitary_case("rotation", _rotation()),
        _unitary_case("w_state", _w_state()),
        _unitary_case("phase_estimation", _phase_estimation_of_t()),
        _unitary_case("grover_11", _grover_11()),
        _ansatz_case(),
        _mid_circuit_case(),
        _registers_case(),
        _reset_case(),
    ]


@functools.cache
def transpiled_cases() -> list[tuple[Case, QuantumCircuit]]:
    """Every case with its circuit transpiled for fake_manila (once per test session)."""
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    backend = FakeManilaV2()
    return [
        (case, transpile(case.circuit, backend, optimization_level=1, seed_transpiler=11))
        for case in cases()
    ]


def sampler_pubs() -> list[Any]:
    """One sampler PUB per case: the transpiled circuit and its parameter sets."""
    return [
        (isa, case.parameter_sets) if case.parameter_sets else (isa,)
        for case, isa in transpiled_cases()
    ]


def register_counts(pub_result: Any) -> list[dict[str, dict[str, int]]]:
    """Counts per parameter set and register of one sampler PUB result."""
    data = pub_result.data
    shape = data.shape
    if not shape:
        return [{name: data[name].get_counts() for name in data}]
    return [{name: data[name].get_counts(index) for name in data} for index in range(shape[0])]


def tvd(counts: dict[str, int], reference: dict[str, float]) -> float:
    """Total-variation distance between measured counts and a probability distribution."""
    shots = sum(counts.values())
    keys = set(counts) | set(reference)
    return 0.5 * sum(abs(counts.get(k, 0) / shots - reference.get(k, 0.0)) for k in keys)


def expected_sampling_tvd(probabilities: dict[str, float], shots: int) -> float:
    """Expected TVD between two independent samples of ``shots`` shots of one distribution.

    Each outcome's frequency difference is about normal with variance ``2 p (1 - p) / shots``,
    and ``E|X| = sigma * sqrt(2 / pi)``, so ``E[TVD] = sum_i sqrt(p_i (1 - p_i) / (pi * shots))``.
    """
    return sum(math.sqrt(p * (1 - p) / (math.pi * shots)) for p in probabilities.values())

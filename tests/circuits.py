"""Circuits for the tests, built once and sized for a 2-core machine."""

from __future__ import annotations

import json
import warnings
from functools import cache
from typing import Any

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import RuntimeEncoder
from qiskit_ibm_runtime.fake_provider import FakeManilaV2


def slow_circuit(num_qubits: int = 22, layers: int = 30) -> QuantumCircuit:
    """A non-Clifford statevector circuit that takes seconds to simulate (about 6 s here).

    It uses only ``rx`` and ``cx`` on neighbours, so it is already ISA for ``ideal_32q``.
    """
    qc = QuantumCircuit(num_qubits)
    for layer in range(layers):
        for q in range(num_qubits):
            qc.rx(0.1 + 0.01 * q + 0.001 * layer, q)
        for q in range(num_qubits - 1):
            qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def bell_circuit() -> QuantumCircuit:
    """A measured Bell pair on qubits 0 and 1."""
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


@cache
def bell_isa() -> QuantumCircuit:
    """A measured Bell circuit transpiled for fake_manila (an ISA circuit, as the client sends)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = FakeManilaV2()
    pm = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=7)
    return pm.run(bell_circuit())


@cache
def endless_circuit(n_qubits: int = 20) -> QuantumCircuit:
    """A circuit that takes the simulator far longer than any test waits.

    Its mid-circuit measurements make Aer simulate every shot separately over a 2^20 statevector,
    so 100,000 shots take hours (about 0.75 s a shot here) unless cancelled.
    """
    qc = QuantumCircuit(n_qubits, n_qubits)
    for layer in range(6):
        qc.h(range(n_qubits))
        for q in range(n_qubits - 1):
            qc.cx(q, q + 1)
            qc.rz(0.1 * (layer + q + 1), q + 1)
        qc.measure(layer % n_qubits, layer % n_qubits)
    qc.measure(range(n_qubits), range(n_qubits))
    return qc


def params_for(pubs: list[Any], **overrides: Any) -> dict[str, Any]:
    """Params as the client builds them: RuntimeEncoder JSON, loaded back into a dict."""
    params = {"pubs": pubs, "options": {}, "version": 2, "support_qiskit": True, **overrides}
    return dict(json.loads(json.dumps(params, cls=RuntimeEncoder)))


def sampler_job_body(backend: str, circuit: QuantumCircuit, shots: int = 100) -> dict[str, Any]:
    """A ``POST /jobs`` body as the client sends it for SamplerV2."""
    return {
        "program_id": "sampler",
        "backend": backend,
        "params": params_for([(circuit, None, shots)]),
    }


@cache
def manila_blocker() -> QuantumCircuit:
    """An ISA circuit for fake_manila that noisy simulation runs shot by shot (mid-circuit
    measurements): about 0.25 ms a shot here, so a million shots take minutes."""
    qc = QuantumCircuit(5, 5)
    for layer in range(10):
        qc.h(range(5))
        for q in range(4):
            qc.cx(q, q + 1)
        qc.measure(layer % 5, layer % 5)
    qc.measure(range(5), range(5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = FakeManilaV2()
    return generate_preset_pass_manager(1, backend=backend, seed_transpiler=1).run(qc)


def entangling_circuit(num_qubits: int = 32, layers: int = 4) -> QuantumCircuit:
    """A non-Clifford circuit whose every layer entangles each qubit with the one half the register
    away: no statevector of 32 qubits fits this machine and no matrix-product state bound does
    either, so the memory guard must refuse it. ISA for ``ideal_32q``."""
    qc = QuantumCircuit(num_qubits)
    half = num_qubits // 2
    for layer in range(layers):
        for q in range(num_qubits):
            qc.rx(0.3 + 0.01 * (q + layer), q)
        for q in range(half):
            qc.cx(q, q + half)
    qc.measure_all()
    return qc

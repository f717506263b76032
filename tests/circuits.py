"""Circuits for the tests, built once and sized for a 2-core machine."""

from __future__ import annotations

import json
from typing import Any

from qiskit import QuantumCircuit
from qiskit_ibm_runtime import RuntimeEncoder


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


def sampler_job_body(backend: str, circuit: QuantumCircuit, shots: int = 100) -> dict[str, Any]:
    """A ``POST /jobs`` body as the client sends it for SamplerV2."""
    params = {"pubs": [(circuit, None, shots)], "options": {}, "version": 2, "support_qiskit": True}
    return {
        "program_id": "sampler",
        "backend": backend,
        "params": json.loads(json.dumps(params, cls=RuntimeEncoder)),
    }

"""Wide GHZ circuits transpiled for the big fake backends, once per test session.

Transpiling a 127- or 156-qubit GHZ at optimization level 3 takes about 20 s here, so each
(backend, level) pair is transpiled once and shared by every test that needs it.
"""

from __future__ import annotations

import warnings
from functools import cache

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

#: The backends of the scale tests and their widths.
GHZ_BACKENDS = {"fake_kolkata": 27, "fake_sherbrooke": 127, "fake_fez": 156}


def ghz(num_qubits: int) -> QuantumCircuit:
    """A measured GHZ state on ``num_qubits`` qubits (a chain of CNOTs)."""
    qc = QuantumCircuit(num_qubits)
    qc.h(0)
    for q in range(num_qubits - 1):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


@cache
def fake_backend(name: str):
    """The fake backend of that name, built once."""
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FakeProviderForBackendV2().backend(name)


@cache
def transpiled_ghz(backend_name: str, level: int) -> QuantumCircuit:
    """A full-width GHZ transpiled for ``backend_name`` at ``level`` (fixed seed), once."""
    backend = fake_backend(backend_name)
    pm = generate_preset_pass_manager(level, backend=backend, seed_transpiler=1)
    return pm.run(ghz(GHZ_BACKENDS[backend_name]))

"""A wide noisy circuit runs: a 35-qubit GHZ on fake_sherbrooke@aer (127 qubits, its noise
model), through the stock client and a real server, on noisy matrix product states (#15)."""

from __future__ import annotations

import pytest
from qiskit_ibm_runtime import SamplerV2

from .scale_circuits import fake_backend, ghz

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WIDTH, SHOTS = 35, 40


def test_noisy_35_qubit_ghz_runs_on_matrix_product_states(service) -> None:
    """No statevector of 35 qubits fits a worker; the planner measures the GHZ's bond dimension
    and runs it shot by shot on matrix product states. The counts are a noisy GHZ: the all-0 and
    all-1 outcomes are the most frequent, and other outcomes show the noise."""
    from qiskit.transpiler import generate_preset_pass_manager

    backend = fake_backend("fake_sherbrooke")
    circuit = generate_preset_pass_manager(1, backend=backend, seed_transpiler=3).run(ghz(WIDTH))
    sampler = SamplerV2(mode=service.backend("fake_sherbrooke@aer"))
    sampler.options.simulator.seed_simulator = 5
    job = sampler.run([circuit], shots=SHOTS)
    result = job.result()
    counts = result[0].data.meas.get_counts()
    assert sum(counts.values()) == SHOTS
    assert result.metadata["simulator"]["method"] == "matrix_product_state"
    assert "matrix product state" in job.logs()
    ghz_counts = counts.get("0" * WIDTH, 0) + counts.get("1" * WIDTH, 0)
    assert ghz_counts >= max(c for k, c in counts.items() if k not in ("0" * WIDTH, "1" * WIDTH))
    assert ghz_counts < SHOTS, "35 noisy qubits must show some errors"

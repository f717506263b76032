"""Circuits of a backend's full width, through the real client on a real server.

A GHZ state on 27, 127 and 156 qubits, transpiled at optimization levels 1 and 3 for
fake_kolkata, fake_sherbrooke and fake_fez, runs noise-free on the stabilizer method (after the
rotation angles that are multiples of pi/2 only up to rounding are made exact) and gives only
all-zeros and all-ones. With the backend's noise no statevector fits; the planner then chooses
matrix product states (tests/test_methods.py) and a 35-qubit one runs end to end
(tests/test_noisy_wide.py). Timings are in benchmarks/, not here.
"""

from __future__ import annotations

import pytest
from qiskit_ibm_runtime import SamplerV2

from .scale_circuits import GHZ_BACKENDS, transpiled_ghz

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CASES = [(name, level) for name in GHZ_BACKENDS for level in (1, 3)]


@pytest.mark.parametrize(("backend_name", "level"), CASES)
def test_ghz_of_full_width_runs_noise_free(service, backend_name: str, level: int) -> None:
    width = GHZ_BACKENDS[backend_name]
    sampler = SamplerV2(mode=service.backend(f"{backend_name}@aer_ideal"))
    sampler.options.simulator.seed_simulator = 7
    job = sampler.run([transpiled_ghz(backend_name, level)], shots=200)
    result = job.result()
    counts = result[0].data.meas.get_counts()
    assert set(counts) == {"0" * width, "1" * width}
    assert sum(counts.values()) == 200
    assert result.metadata["simulator"]["method"] == "stabilizer"
    assert "stabilizer" in job.logs()

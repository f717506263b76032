"""Every runtime option the simulator applies, shown by its effect through the real client.

Options IBM's local testing mode honours are checked against its behaviour; the others
(``coupling_map``, ``basis_gates``, kerneled measurements, a noise model for the estimator) against
Aer's and the client's documented meaning of the option.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.primitives.containers import BitArray
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.noise import NoiseModel, ReadoutError
from qiskit_ibm_runtime import EstimatorV2, SamplerV2
from qiskit_ibm_runtime.exceptions import IBMRuntimeError
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from .circuits import bell_isa

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def ideal(service):
    return service.backend("fake_manila@aer_ideal")


@pytest.fixture(scope="module")
def noisy(service):
    return service.backend("fake_manila@aer")


def _readout_noise(p: float) -> NoiseModel:
    model = NoiseModel()
    model.add_all_qubit_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]))
    return model


def _bell_observable(name: str) -> SparsePauliOp:
    return SparsePauliOp(name).apply_layout(bell_isa().layout)


def test_default_shots(ideal):
    sampler = SamplerV2(mode=ideal)
    sampler.options.default_shots = 123
    result = sampler.run([bell_isa(), (bell_isa(), None, 7)]).result()
    assert [r.data.meas.num_shots for r in result] == [123, 7]
    estimator = EstimatorV2(mode=ideal)
    estimator.options.default_shots = 400  # as local testing mode: precision 1 / sqrt(shots)
    pub_result = estimator.run([(bell_isa(), _bell_observable("XX"))]).result()[0]
    assert pub_result.metadata["target_precision"] == pytest.approx(0.05)


def test_default_precision(ideal):
    estimator = EstimatorV2(mode=ideal)
    estimator.options.default_precision = 0.03
    pub_result = estimator.run([(bell_isa(), _bell_observable("ZI"))]).result()[0]
    assert pub_result.metadata["target_precision"] == pytest.approx(0.03)
    assert pub_result.metadata["shots"] == int(np.ceil(1 / 0.03**2))
    assert float(pub_result.data.stds) == pytest.approx(0.03, rel=0.1)


def _bits(backend, seed: int) -> np.ndarray:
    sampler = SamplerV2(mode=backend)
    sampler.options.simulator.seed_simulator = seed
    return sampler.run([bell_isa()], shots=300).result()[0].data.meas.array


def test_seed_simulator_reproduces_every_shot(noisy):
    first, again, other = _bits(noisy, 99), _bits(noisy, 99), _bits(noisy, 100)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_noise_model_adds_noise_to_the_ideal_executor(ideal):
    sampler = SamplerV2(mode=ideal)
    sampler.options.simulator.noise_model = _readout_noise(0.25)
    sampler.options.simulator.seed_simulator = 5
    counts = sampler.run([bell_isa()], shots=2000).result()[0].data.meas.get_counts()
    assert counts.get("01", 0) + counts.get("10", 0) > 400  # about 2 * 0.25 * 0.75 = 37.5%
    estimator = EstimatorV2(mode=ideal)  # beyond local testing mode: the estimator too
    estimator.options.simulator.noise_model = _readout_noise(0.25)
    estimator.options.default_precision = 0.02
    zz = float(estimator.run([(bell_isa(), _bell_observable("ZZ"))]).result()[0].data.evs)
    assert zz == pytest.approx(0.25, abs=0.1)  # (1 - 2p)^2


def test_noise_model_overrides_the_backends_noise(noisy):
    sampler = SamplerV2(mode=noisy)
    sampler.options.simulator.noise_model = NoiseModel()  # no noise at all
    counts = sampler.run([bell_isa()], shots=2000).result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}


def test_meas_type_classified_kerneled_and_averaged(ideal):
    flipped = QuantumCircuit(2)
    flipped.x(0)
    flipped.measure_all()
    isa = transpile(flipped, FakeManilaV2(), optimization_level=1, seed_transpiler=3)
    results = {}
    for meas_type in ("classified", "kerneled", "avg_kerneled"):
        sampler = SamplerV2(mode=ideal)
        sampler.options.execution.meas_type = meas_type
        sampler.options.simulator.seed_simulator = 8
        results[meas_type] = sampler.run([isa], shots=50).result()[0].data.meas
    assert isinstance(results["classified"], BitArray)
    assert results["classified"].get_counts() == {"01": 50}
    kerneled = results["kerneled"]
    assert kerneled.shape == (50, 2) and np.iscomplexobj(kerneled)
    # Classifying each IQ point by its side of the imaginary axis gives back the outcome.
    assert np.all(kerneled[:, 0].real < 0) and np.all(kerneled[:, 1].real > 0)
    averaged = results["avg_kerneled"]
    assert averaged.shape == (2,)
    assert averaged[0].real == pytest.approx(-1, abs=0.15)
    assert averaged[1].real == pytest.approx(1, abs=0.15)


def test_coupling_map_refuses_circuits_that_do_not_fit(ideal):
    sampler = SamplerV2(mode=ideal)
    sampler.options.simulator.coupling_map = [[2, 3], [3, 2]]
    with pytest.raises(IBMRuntimeError, match=r"qubits \(\d, \d\).*coupling_map"):
        sampler.run([bell_isa()]).result()
    sampler.options.simulator.coupling_map = [[a, b] for a in range(5) for b in range(5) if a != b]
    assert sampler.run([bell_isa()], shots=10).result()[0].data.meas.num_shots == 10


def test_basis_gates_refuse_other_gates(ideal):
    sampler = SamplerV2(mode=ideal)
    sampler.options.simulator.basis_gates = ["rz", "sx", "x"]
    with pytest.raises(
        IBMRuntimeError, match=r"which is not in options\.simulator\.basis_gates"
    ) as err:
        sampler.run([bell_isa()]).result()
    assert "uses the gate" in str(err.value) and "cx" in str(err.value)


def test_options_without_meaning_on_a_simulator_are_named(ideal):
    estimator = EstimatorV2(mode=ideal)
    estimator.options.resilience_level = 2
    estimator.options.dynamical_decoupling.enable = True
    job = estimator.run([(bell_isa(), _bell_observable("ZZ"))])
    job.result()
    logs = job.logs()
    assert "Options not applied by this server:" in logs
    assert "resilience_level" in logs and "dynamical_decoupling.enable" in logs


def test_method_and_versions_in_metadata_and_metrics(ideal):
    job = SamplerV2(mode=ideal).run([bell_isa()], shots=10)
    result = job.result()
    assert result.metadata["simulator"]["method"] in {"stabilizer", "statevector"}
    metrics = job.metrics()
    assert metrics["simulator"]["method"] == result.metadata["simulator"]["method"]
    assert metrics["qiskit_version"] and metrics["qiskit_aer_version"]
    assert "Simulation method:" in job.logs()

"""Idle qubits are free: measured qubits in independent groups run part by part under local noise
(execution/reduction.py), with the distribution of the whole circuit, in one process, against
real Aer and the fake backends' own noise models."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from functools import cache

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.circuit import Parameter
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError
from qiskit_aer.primitives import SamplerV2 as AerSamplerV2
from qiskit_ibm_runtime import QuantumProgram
from qiskit_ibm_runtime.fake_provider import FakeGuadalupeV2
from qiskit_ibm_runtime.options_models import ExecutorOptions
from qiskit_ibm_runtime.quantum_program.params_converters import (
    QUANTUM_PROGRAM_PARAMS_CONVERTERS,
)

from jupyter_qiskit_runtime.execution.programs import ProgramRunner, run_task
from jupyter_qiskit_runtime.execution.reduction import (
    measured_groups,
    noise_is_local,
    plan_reduction,
    sample_reduced,
)
from jupyter_qiskit_runtime.execution.task import Task
from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog

SHOTS = 4000
GIB = 2**30


@pytest.fixture(scope="module", autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@cache
def guadalupe_simulator() -> AerSimulator:
    """Aer with fake_guadalupe's noise model and target (16 qubits), as local testing mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AerSimulator.from_backend(FakeGuadalupeV2())


def pair_with_idle_qubits() -> QuantumCircuit:
    """A correlated pair on qubits 3 and 11 (not neighbours: the cx is noiseless there, the sx
    and measurements are noisy), a rotated qubit 5, and idle measured qubits 0, 1, 2, 12, 13."""
    qc = QuantumCircuit(16)
    qc.sx(3)
    qc.cx(3, 11)
    qc.rz(0.7, 5)
    qc.sx(5)
    measured = [3, 11, 5, 0, 1, 2, 12, 13]
    creg = ClassicalRegister(len(measured), "meas")
    qc.add_register(creg)
    qc.barrier()
    qc.measure(measured, creg)
    return qc


def test_measured_qubits_are_grouped_by_what_connects_them() -> None:
    """Groups follow multi-qubit gates and shared clbits, leave unmeasured qubits out, and a
    circuit with control flow is not split."""
    circuit = pair_with_idle_qubits()
    assert measured_groups(circuit) == [[0], [1], [2], [3, 11], [5], [12], [13]]
    shared = QuantumCircuit(3, 1)
    shared.measure(0, 0)
    shared.measure(2, 0)
    assert measured_groups(shared) == [[0, 2]]
    dynamic = QuantumCircuit(2, 2)
    dynamic.measure(0, 0)
    with dynamic.if_test((dynamic.clbits[0], 1)):
        dynamic.x(1)
    dynamic.measure(1, 1)
    assert measured_groups(dynamic) is None


def test_only_local_noise_allows_a_split() -> None:
    """The fake backends' noise is local; a correlated two-qubit readout error is not."""
    model = guadalupe_simulator().options.noise_model
    assert noise_is_local(model)
    reduction = plan_reduction(pair_with_idle_qubits(), model)
    assert reduction is not None and len(reduction.parts) == 2
    assert sorted(q for part in reduction.parts for q in part) == [0, 1, 2, 3, 5, 11, 12, 13]
    correlated = NoiseModel()
    correlated.add_readout_error(ReadoutError([[0.9, 0, 0, 0.1]] + [[0, 1, 0, 0]] * 3), [3, 11])
    assert not noise_is_local(correlated)
    assert plan_reduction(pair_with_idle_qubits(), correlated) is None
    small = QuantumCircuit(5, 5)
    small.measure(range(5), range(5))
    assert plan_reduction(small, model) is None  # few qubits: run whole, as local mode


def _frequencies(bits: np.ndarray) -> dict[str, float]:
    """Statistics that tell the joint distribution apart: each bit's P(1), and the parity of
    each pair of bits (correlations within and across groups)."""
    stats = {f"p{i}": float(bits[:, i].mean()) for i in range(bits.shape[1])}
    for i in range(bits.shape[1]):
        for j in range(i + 1, bits.shape[1]):
            stats[f"x{i}{j}"] = float((bits[:, i] ^ bits[:, j]).mean())
    return stats


def test_split_circuit_has_the_distribution_of_the_whole_one() -> None:
    """Part by part and whole (one seed each), every single-bit and pair-parity frequency agrees
    within 5 standard errors of a difference of two independent samples of SHOTS; the noise
    shows (qubit 3 and 11 disagree sometimes), and the pair stays correlated."""
    circuit = pair_with_idle_qubits()
    simulator = guadalupe_simulator()
    reduction = plan_reduction(circuit, simulator.options.noise_model)
    assert reduction is not None
    sampler = AerSamplerV2.from_backend(simulator, seed=11)
    split = sample_reduced(sampler, circuit, reduction, None, SHOTS)["meas"]
    whole_result = AerSamplerV2.from_backend(simulator, seed=12).run([(circuit,)], shots=SHOTS)
    whole = whole_result.result()[0].data.meas.to_bool_array(order="little")
    assert split.shape == whole.shape == (SHOTS, 8)
    ours, theirs = _frequencies(split), _frequencies(whole)
    for key, p in theirs.items():
        se = np.sqrt(2 * max(p * (1 - p), 1 / SHOTS) / SHOTS)
        assert abs(ours[key] - p) < 5 * se, (key, ours[key], p)
    assert 0 < ours["x01"] < 0.2  # 3 and 11: correlated, with some noise
    assert abs(ours["x02"] - 0.5) < 0.1  # 3 and 5: independent


def _measure_all_program(width: int) -> QuantumProgram:
    """A 2-qubit parameterized circuit on qubits 1 and 2 of a device of ``width`` qubits,
    measuring every qubit (as the executor-based Estimator's measurement box does)."""
    theta = Parameter("theta")
    qc = QuantumCircuit(width)
    qc.rz(theta, 1)
    qc.sx(1)
    qc.cx(1, 2)
    qc.measure_all()
    program = QuantumProgram(shots=200)
    program.append_circuit_item(qc, circuit_arguments=np.array([[0.0], [1.0]]))
    return program


@pytest.mark.parametrize("backend", ["fake_guadalupe@aer", "fake_kolkata@aer"])
def test_idle_qubits_do_not_change_the_planned_width(backend: str) -> None:
    """The same 2-qubit circuit measuring every qubit of a 16- or a 27-qubit noisy device is
    planned and run with parts no wider than on a 5-qubit one; the results keep their shape."""
    recipe = BackendCatalog().get(backend).recipe()
    program = _measure_all_program(recipe.n_qubits)
    model = QUANTUM_PROGRAM_PARAMS_CONVERTERS["v2.0"].encoder(program, ExecutorOptions())
    params = model.model_dump(mode="json")
    params["options"]["experimental"] = {"simulator": {"seed_simulator": 3}}
    task = Task("idle", "executor", recipe, json.dumps(params), memory_budget=GIB)
    outcome = run_task(task, ProgramRunner())
    assert outcome.ok, outcome.traceback
    assert outcome.metrics["simulator"]["active_qubits"] <= 5
    assert outcome.metrics["simulator"]["parts"][0] > 1
    assert "independent groups" in outcome.logs

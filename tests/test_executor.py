"""The ``executor`` program through the official client and a real server, against local mode.

Local testing mode (``Executor(mode=FakeManilaV2())`` or ``Executor(mode=AerSimulator())``) runs the
same ``run_quantum_program`` in this process. Seeded, the server's results are bit for bit the
same; the client never sends ``options.simulator``, so the server reads the seed from
``options.experimental["simulator"]``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime import Executor, QuantumProgram
from qiskit_ibm_runtime.exceptions import IBMRuntimeError
from qiskit_ibm_runtime.executor_estimator import Estimator
from qiskit_ibm_runtime.executor_sampler import Sampler
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from qiskit_ibm_runtime.options_models import ExecutorOptions
from qiskit_ibm_runtime.quantum_program.params_converters import (
    QUANTUM_PROGRAM_PARAMS_CONVERTERS,
)

from .circuits import bell_isa
from .rest import RestClient

SHOTS = 2000
#: Five standard deviations of a fair binomial over SHOTS trials: a false failure is ~1 in 1.7M.
TOLERANCE = 5 * (SHOTS * 0.25) ** 0.5 / SHOTS
SWEEP = np.array([[0.0], [np.pi], [np.pi / 2]])
SEED = 1234

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _fake_manila() -> FakeManilaV2:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FakeManilaV2()


@pytest.fixture(scope="module")
def program() -> QuantumProgram:
    """A Bell item and an ``rx(theta)`` item swept over 0, pi and pi/2, ISA for fake_manila."""
    theta = Parameter("theta")
    rotation = QuantumCircuit(1)
    rotation.rx(theta, 0)
    rotation.measure_all()
    pm = generate_preset_pass_manager(1, backend=_fake_manila(), seed_transpiler=7)
    prog = QuantumProgram(shots=SHOTS)
    prog.append_circuit_item(bell_isa())
    prog.append_circuit_item(pm.run(rotation), circuit_arguments=SWEEP)
    return prog


def _seeded(mode: Any, seed: int = SEED) -> Executor:
    """An executor seeded both ways: ``simulator`` (local mode) and ``experimental`` (server)."""
    executor = Executor(mode=mode)
    executor.options.simulator.seed_simulator = seed
    executor.options.experimental = {"simulator": {"seed_simulator": seed}}
    return executor


def _structure(result: Any) -> list[dict[str, tuple[tuple[int, ...], np.dtype]]]:
    return [{key: (value.shape, value.dtype) for key, value in item.items()} for item in result]


def _assert_same_data(result: Any, expected: Any) -> None:
    assert _structure(result) == _structure(expected)
    for item, local in zip(result, expected, strict=True):
        for key in local:
            np.testing.assert_array_equal(item[key], local[key])


def test_ideal_program_has_local_mode_shapes_and_bell_correlations(service, program) -> None:
    """On @aer_ideal: bool arrays shaped as local mode gives them, a perfect Bell pair, and the
    sweep's rx(0), rx(pi), rx(pi/2) outcomes."""
    result = Executor(mode=service.backend("fake_manila@aer_ideal")).run(program).result()
    local = Executor(mode=_fake_manila()).run(program).result()
    assert _structure(result) == _structure(local)
    assert _structure(result) == [
        {"meas": ((SHOTS, 2), np.dtype(bool))},
        {"meas": ((3, SHOTS, 1), np.dtype(bool))},
    ]
    bell = result[0]["meas"]
    assert np.array_equal(bell[:, 0], bell[:, 1]), "an ideal Bell pair gives only 00 and 11"
    assert abs(bell[:, 0].mean() - 0.5) < TOLERANCE
    ones = result[1]["meas"][:, :, 0].mean(axis=1)
    assert ones[0] == 0.0
    assert ones[1] == 1.0
    assert abs(ones[2] - 0.5) < TOLERANCE


def test_seeded_ideal_run_equals_local_mode_on_aer_simulator(service, program) -> None:
    """Seeded, @aer_ideal gives exactly what local mode gives on a noise-free AerSimulator."""
    result = _seeded(service.backend("fake_manila@aer_ideal")).run(program).result()
    _assert_same_data(result, _seeded(AerSimulator()).run(program).result())


def test_seeded_noisy_run_equals_local_mode_on_the_fake_backend(service, program) -> None:
    """Seeded, @aer gives exactly what local mode gives on FakeManilaV2 (its noise model included:
    Aer's sampling is deterministic for a seed), and the noise shows."""
    result = _seeded(service.backend("fake_manila@aer")).run(program).result()
    _assert_same_data(result, _seeded(_fake_manila()).run(program).result())
    bell = result[0]["meas"]
    assert not np.array_equal(bell[:, 0], bell[:, 1]), "a noisy backend must show some errors"
    other = _seeded(service.backend("fake_manila@aer"), seed=SEED + 1).run(program).result()
    assert not np.array_equal(other[0]["meas"], bell), "another seed gives other samples"


def test_result_metadata_passthrough_logs_and_metrics(service) -> None:
    """One chunk span covers the run with a part per item; passthrough data comes back; options
    not applied are named in the logs; the metrics describe the circuits."""
    prog = QuantumProgram(shots=10, passthrough_data={"tag": "x", "values": np.arange(4)})
    prog.append_circuit_item(bell_isa())
    prog.append_circuit_item(bell_isa())
    executor = _seeded(service.backend("fake_manila@aer_ideal"))
    executor.options.execution.rep_delay = 0.0001
    executor.options.experimental["mitigation"] = "on"
    job = executor.run(prog)
    result = job.result()
    (span,) = result.metadata.chunk_timing
    assert span.start <= span.stop
    assert span.start.utcoffset() is not None
    assert [(part.idx_item, part.size) for part in span.parts] == [(0, 1), (1, 1)]
    assert result.passthrough_data["tag"] == "x"
    np.testing.assert_array_equal(result.passthrough_data["values"], np.arange(4))
    logs = job.logs()
    assert "options.rep_delay" in logs
    assert "options.experimental.mitigation" in logs
    assert "seed_simulator" not in logs
    metrics = job.metrics()
    assert metrics["num_qubits"] == [5, 5]
    assert len(metrics["circuit_depths"]) == 2


def _params(prog: QuantumProgram, version: str = "v2.0") -> dict[str, Any]:
    """Params as ``Executor.run`` sends them."""
    model = QUANTUM_PROGRAM_PARAMS_CONVERTERS[version].encoder(prog, ExecutorOptions())
    return dict(model.model_dump(mode="json"))


def _bell_params() -> dict[str, Any]:
    prog = QuantumProgram(shots=10)
    prog.append_circuit_item(bell_isa())
    return _params(prog)


def _changed(**changes: Any) -> dict[str, Any]:
    params = _bell_params()
    params.update(changes)
    return params


def _no_items() -> dict[str, Any]:
    params = _bell_params()
    params["quantum_program"]["items"] = []
    return params


def _garbage_circuits() -> dict[str, Any]:
    params = _bell_params()
    params["quantum_program"]["circuits"]["b64_data"] = "bm90IHFweQ=="
    return params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            _changed(schema_version="v9.9"),
            "'v9.9' is not supported by the executor program; "
            "supported: v0.1, v0.2, v1.0, v1.1, v2.0.",
        ),
        (_changed(schema_version=None), "None is not supported"),
        (_changed(quantum_program=None), "quantum_program: Input should be"),
        (_changed(options={"init_qubits": "sometimes"}), "options.init_qubits: Input should be"),
        (_no_items(), "exactly one circuit for every program item"),
        (_garbage_circuits(), "could not be decoded"),
    ],
    ids=["version", "no-version", "no-program", "bad-option", "no-items", "garbage-qpy"],
)
def test_invalid_params_are_a_400_that_says_why(server, params, message) -> None:
    """Params that are not an executor program of a supported version are refused at once."""
    body = {"program_id": "executor", "backend": "fake_manila@aer_ideal", "params": params}
    response = RestClient(server).post("jobs", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


def test_params_of_an_older_schema_version_run(server, service) -> None:
    """Params of another schema version the client has converters for are run too."""
    prog = QuantumProgram(shots=10)
    prog.append_circuit_item(bell_isa())
    params = _params(prog, "v0.1")
    assert params["schema_version"] == "v0.1"
    body = {"program_id": "executor", "backend": "fake_manila@aer_ideal", "params": params}
    job_id = RestClient(server).submit(body)
    assert service.job(job_id).result()[0]["meas"].shape == (10, 2)


def test_too_wide_circuit_is_a_400_the_client_shows(service) -> None:
    """A circuit wider than the backend is refused at submission with a message the client shows."""
    wide = QuantumCircuit(6)
    wide.h(0)
    wide.measure_all()
    prog = QuantumProgram(shots=10)
    prog.append_circuit_item(wide)
    with pytest.raises(IBMRuntimeError, match=r"items\[0\] has a circuit of 6 qubits"):
        Executor(mode=service.backend("fake_manila@aer_ideal")).run(prog)


def test_client_side_sampler_and_estimator_equal_local_mode(service) -> None:
    """The Sampler and Estimator built on Executor (``qiskit_ibm_runtime.executor_sampler``,
    ``executor_estimator``) run through the server and, seeded, match local mode exactly."""
    remote, local = service.backend("fake_manila@aer"), _fake_manila()
    counts = []
    for mode in (remote, local):
        sampler = Sampler(mode=mode)
        sampler.options.simulator.seed_simulator = SEED
        sampler.options.experimental = {"simulator": {"seed_simulator": SEED}}
        counts.append(sampler.run([bell_isa()], shots=500).result()[0].data.meas.get_counts())
    assert counts[0] == counts[1]
    assert counts[0].get("00", 0) + counts[0].get("11", 0) > 400
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    isa = generate_preset_pass_manager(1, backend=local, seed_transpiler=7).run(bell)
    pub = (isa, SparsePauliOp("ZZ").apply_layout(isa.layout))
    evs = []
    for mode in (remote, local):
        estimator = Estimator(mode=mode)
        estimator.options.simulator.seed_simulator = SEED
        estimator.options.experimental = {"simulator": {"seed_simulator": SEED}}
        evs.append(float(estimator.run([pub]).result()[0].data.evs))
    assert evs[0] == evs[1]
    assert evs[0] == pytest.approx(1.0, abs=0.1)

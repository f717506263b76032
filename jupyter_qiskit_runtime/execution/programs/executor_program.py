"""The ``executor`` program: runs a ``QuantumProgram`` as IBM's local testing mode does.

The client's ``Executor.run`` sends ``ParamsModel.model_dump(mode="json")`` of one of the executor
schema versions (``ibm_quantum_schemas.executor``) as the job's params. We decode it with the
client's own converters (``QUANTUM_PROGRAM_PARAMS_CONVERTERS``, keyed by ``schema_version``), run
it with local testing mode's ``run_quantum_program`` on the backend its executor gives (for
``@aer`` the fake backend itself, for ``@aer_ideal`` a noise-free ``AerSimulator``) and answer
with a ``QuantumProgramResultModel`` of schema ``v2.0``, the inverse of the client's
``quantum_program_result_from_2_0``.

Local testing mode reads the ``simulator`` options (``seed_simulator``, ``angle_decimals``) from
``ExecutorOptions.simulator``, which the client never sends to a server. This server takes them
from ``options.experimental["simulator"]`` instead, which the client does send::

    executor.options.experimental = {"simulator": {"seed_simulator": 42}}

Every other option that is set is accepted and named in the job's logs as not applied.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import ParamsError
from ..task import Task
from .runner import Program, ProgramRunner, log_not_applied, run_metrics

if TYPE_CHECKING:
    from qiskit_ibm_runtime.quantum_program import QuantumProgram
    from qiskit_ibm_runtime.results import QuantumProgramResult

__all__ = [
    "APPLIED_SIMULATOR_OPTIONS",
    "EXECUTOR_PROGRAM",
    "RESULT_SCHEMA_VERSION",
    "ExecutorInput",
    "decode_executor_params",
    "encode_result",
    "supported_versions",
]

#: The schema version of the results this server returns (the client decodes every version).
RESULT_SCHEMA_VERSION = "v2.0"
#: The key of ``options.experimental`` that carries local testing mode's simulator options.
SIMULATOR_KEY = "simulator"
#: The simulator options (``ExecutorOptions.simulator``) applied when sent in that key.
APPLIED_SIMULATOR_OPTIONS = {"seed_simulator": int, "angle_decimals": int}
#: How many validation errors a 400 names.
MAX_ERRORS_SHOWN = 3


@dataclass
class ExecutorInput:
    """A decoded executor job: the program, the simulator options to apply, the rest."""

    program: QuantumProgram
    schema_version: str
    simulator: dict[str, Any] = field(default_factory=dict)
    not_applied: list[str] = field(default_factory=list)


def supported_versions() -> list[str]:
    """The params schema versions the installed client has converters for."""
    from qiskit_ibm_runtime.quantum_program.params_converters import (
        QUANTUM_PROGRAM_PARAMS_CONVERTERS,
    )

    return list(QUANTUM_PROGRAM_PARAMS_CONVERTERS)


def _validation_message(exc: Any) -> str:
    """A short message for a pydantic ``ValidationError`` (never echoing the input data)."""
    errors = exc.errors(include_input=False, include_url=False)
    shown = [
        f"{'.'.join(str(part) for part in error['loc']) or 'params'}: {error['msg']}"
        for error in errors[:MAX_ERRORS_SHOWN]
    ]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def _simulator_options(experimental: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The simulator options in ``options.experimental``, and the experimental keys ignored."""
    ignored = [f"options.experimental.{key}" for key in experimental if key != SIMULATOR_KEY]
    simulator = experimental.get(SIMULATOR_KEY) or {}
    if not isinstance(simulator, dict):
        raise ParamsError(f"options.experimental.{SIMULATOR_KEY} must be a JSON object.")
    applied: dict[str, Any] = {}
    for key, value in simulator.items():
        where = f"options.experimental.{SIMULATOR_KEY}.{key}"
        if key not in APPLIED_SIMULATOR_OPTIONS:
            ignored.append(where)
        elif value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParamsError(f"{where} must be an integer, not {value!r}.")
            if key == "angle_decimals" and value < 0:
                raise ParamsError(f"{where} must not be negative, not {value!r}.")
            applied[key] = value
    return applied, ignored


def _not_applied(model: Any, program: QuantumProgram) -> list[str]:
    """Options and program settings that are set and have no effect on this simulation."""
    options = model.options
    defaults = type(options)().model_dump()
    names = [
        f"options.{key}"
        for key, value in options.model_dump().items()
        if key != "experimental" and value != defaults.get(key)
    ]
    if program.meas_level != "classified":
        names.append(f"quantum_program.meas_level ({program.meas_level!r}; results are bits)")
    if any(item.chunk_size is not None for item in program.items):
        names.append("quantum_program.items[].chunk_size")
    return names


def decode_executor_params(params: str) -> ExecutorInput:
    """Decode the params text of an executor job; ``ParamsError`` if it is not a valid program."""
    from pydantic import ValidationError
    from qiskit_ibm_runtime.quantum_program.params_converters import (
        QUANTUM_PROGRAM_PARAMS_CONVERTERS,
    )
    from samplomatic.samplex import Samplex

    try:
        decoded = json.loads(params)
    except ValueError as exc:
        raise ParamsError(f"The job's params are not JSON: {exc}") from exc
    if not isinstance(decoded, dict):
        raise ParamsError("The job's params must be a JSON object.")
    version = decoded.get("schema_version")
    converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS.get(version) if isinstance(version, str) else None
    if converter is None:
        raise ParamsError(
            f"params.schema_version {version!r} is not supported by the executor program; "
            f"supported: {', '.join(QUANTUM_PROGRAM_PARAMS_CONVERTERS)}."
        )
    try:
        model = converter.model.model_validate(decoded)
    except ValidationError as exc:
        raise ParamsError(
            f"The executor params ({version}) are not valid: {_validation_message(exc)}"
        ) from exc
    except Exception as exc:  # a validator that decodes data (QPY, tensors) and fails on it
        raise ParamsError(
            f"The executor params ({version}) could not be decoded: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        program, options = converter.decoder(model)
        for item in program.items:
            if isinstance(samplex := getattr(item, "samplex", None), Samplex):
                # A samplex loses its finalized state in JSON; the client's is always finalized.
                samplex.finalize()
    except Exception as exc:
        raise ParamsError(f"The quantum program could not be decoded: {exc}") from exc
    simulator, ignored = _simulator_options(dict(options.experimental or {}))
    return ExecutorInput(
        program=program,
        schema_version=str(version),
        simulator=simulator,
        not_applied=_not_applied(model, program) + ignored,
    )


def _validate(params: str, n_qubits: int) -> None:
    """Runs in the server (in a thread) at submission: raise ``ParamsError`` (an HTTP 400 with
    its message) when the params cannot be decoded or do not fit a backend of ``n_qubits``
    qubits."""
    decoded = decode_executor_params(params)
    if not decoded.program.items:
        raise ParamsError("params.quantum_program has no items to run.")
    for index, item in enumerate(decoded.program.items):
        width = item.circuit.num_qubits
        if width > n_qubits:
            raise ParamsError(
                f"params.quantum_program.items[{index}] has a circuit of {width} qubits; "
                f"the backend has {n_qubits}."
            )


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def encode_result(
    result: QuantumProgramResult, program: QuantumProgram, started: float, stopped: float
) -> str:
    """The ``QuantumProgramResultModel`` (v2.0) JSON of a result, as IBM's service returns it.

    ``started`` and ``stopped`` (POSIX times) bound the one chunk of execution, which holds every
    element of every item."""
    import numpy as np
    from ibm_quantum_schemas.common import CompressedTensorModel
    from ibm_quantum_schemas.executor.version_2_0 import (
        ChunkPart,
        ChunkSpan,
        ItemMetadataModel,
        MetadataModel,
        QuantumProgramResultItemModel,
        QuantumProgramResultModel,
    )
    from qiskit_ibm_runtime.quantum_program.converters.converters_2_0 import (
        passthrough_data_to_2_0,
    )

    parts = []
    for index, item in enumerate(program.items):
        size = int(item.size())
        parts.append(
            ChunkPart(
                idx_item=index,
                size=size,
                permutation=list(range(len(item.shape))),
                element_range=(0, size, 1),
            )
        )
    data = [
        QuantumProgramResultItemModel(
            results={
                name: CompressedTensorModel.from_numpy(np.asarray(value))
                for name, value in item_result.items()
            },
            metadata=ItemMetadataModel(),
        )
        for item_result in result
    ]
    semantic_role = getattr(result, "_semantic_role", None) or getattr(
        program, "_semantic_role", None
    )
    model = QuantumProgramResultModel(
        schema_version=RESULT_SCHEMA_VERSION,
        data=data,
        metadata=MetadataModel(
            chunk_timing=[ChunkSpan(start=_utc(started), stop=_utc(stopped), parts=parts)]
        ),
        passthrough_data=passthrough_data_to_2_0(result.passthrough_data),
        semantic_role=semantic_role,
    )
    return model.model_dump_json()


def _run(task: Task, runner: ProgramRunner, log: logging.Logger) -> tuple[str, dict[str, Any]]:
    """Runs in a worker process. Returns the result text exactly as IBM's service returns it
    for an executor job, and the metrics."""
    from qiskit_ibm_runtime.options_models.simulator import SimulatorOptions

    from ..options import PrimitiveSettings
    from .quantum_program import plan_reductions, planned_circuits, run_program

    executor = runner.executor(task.backend.executor)
    decoded = decode_executor_params(task.params)
    program = decoded.program
    log_not_applied(log, decoded.not_applied)
    if "seed_simulator" not in decoded.simulator:
        log.info(
            "No seed: the client does not send options.simulator; set "
            "options.experimental = {'%s': {'seed_simulator': <int>}} for a reproducible run.",
            SIMULATOR_KEY,
        )
    backend = runner.backend(task.backend, executor, PrimitiveSettings(), "automatic")
    simulator = runner.aer_simulator(backend)
    reductions = plan_reductions(program, simulator, executor.noisy)
    # Local testing mode lets Aer choose the method; the plan is the memory guard only (and
    # the executor's veto), made for the circuits as they run: split ones part by part.
    plan = executor.plan(
        planned_circuits(program, reductions),
        noisy=executor.noisy,
        shots=program.shots,
        budget_bytes=task.memory_budget,
        parameterized=None,
    )
    log.info("Estimated memory: %d bytes. %s", plan.memory_bytes, plan.reason)
    for index, reduction in enumerate(reductions):
        if reduction is not None:
            log.info(
                "Item %d: its measured qubits form independent groups under local noise; they "
                "run in %d parts of at most %d qubits (same distribution, other samples than "
                "local testing mode's for a seed).",
                index,
                len(reduction.parts),
                reduction.width,
            )
    log.info(
        "Running the executor (params %s) on %s: %d item(s), %d shots.",
        decoded.schema_version,
        task.backend.name,
        len(program.items),
        program.shots,
    )
    started_wall = time.time()
    started = time.perf_counter()
    # Aer chooses the method, as in local testing mode, unless no method it would choose fits
    # a noisy job: then the planner's matrix product states.
    noisy_mps = executor.noisy and plan.method == "matrix_product_state"
    run_options = dict(plan.run_options) if noisy_mps else {}
    options = SimulatorOptions(**decoded.simulator)
    result = run_program(simulator, program, options, reductions, run_options)
    seconds = time.perf_counter() - started
    log.info("Simulation finished in %.3f s.", seconds)
    encoded = encode_result(result, program, started_wall, started_wall + seconds)
    metrics = run_metrics(runner, seconds, [item.circuit for item in program.items])
    metrics["simulator"] = {
        "executor": executor.name,
        "active_qubits": plan.active_qubits,
        "parts": [len(r.parts) if r else 1 for r in reductions],
        "estimated_memory_bytes": plan.memory_bytes,
    }
    return encoded, metrics


#: The executor program (``qiskit_ibm_runtime.Executor``).
EXECUTOR_PROGRAM = Program(
    "executor", "Executor: runs a QuantumProgram, as IBM's local testing mode does", _validate, _run
)

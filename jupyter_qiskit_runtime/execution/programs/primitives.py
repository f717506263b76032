"""The ``sampler`` and ``estimator`` programs (SamplerV2, EstimatorV2): decode a job's PUBs and
options, run them with ``BackendSamplerV2`` / ``BackendEstimatorV2`` on the plan and backend of
the job's executor, and encode the ``PrimitiveResult``. Qiskit is imported when a function runs,
never at import time.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import time
from collections.abc import Iterator
from typing import Any

from ..errors import ParamsError
from ..options import PrimitiveSettings, check_device_fit, settings_from_options
from ..task import Task
from .runner import Program, ProgramRunner, Steps, log_not_applied, run_metrics

__all__ = ["ESTIMATOR", "SAMPLER", "decode_params"]

#: Top-level params that describe the job itself; any other one (``resilience_level``, ...) is an
#: option, named in the logs as not applied.
ENVELOPE_PARAMS = frozenset({"pubs", "options", "version", "support_qiskit"})

#: The shots BackendSamplerV2 takes when neither the PUB nor the options say.
DEFAULT_SAMPLER_SHOTS = 1024
#: The precision BackendEstimatorV2 takes when neither the PUB nor the options say.
DEFAULT_ESTIMATOR_PRECISION = 0.015625


def decode_params(params: str) -> dict[str, Any]:
    """Decode the client's RuntimeEncoder JSON into Python objects."""
    from qiskit_ibm_runtime import RuntimeDecoder

    try:
        decoded = json.loads(params, cls=RuntimeDecoder)
    except RecursionError:  # JSON inside strings (a BindingsArray's keys) is decoded again
        raise ParamsError(
            "The job's params could not be decoded: they are nested too deeply."
        ) from None
    except Exception as exc:
        raise ParamsError(f"The job's params could not be decoded: {exc}") from exc
    if not isinstance(decoded, dict):
        raise ParamsError("The job's params must be a JSON object.")
    return decoded


def _coerce_pubs(program_id: str, params: dict[str, Any]) -> list[Any]:
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    pubs = params.get("pubs")
    if not isinstance(pubs, list) or not pubs:
        raise ParamsError("params.pubs must be a non-empty list of PUBs.")
    coerce = SamplerPub.coerce if program_id == "sampler" else EstimatorPub.coerce
    coerced = []
    for index, pub in enumerate(pubs):
        try:
            coerced.append(coerce(tuple(pub) if isinstance(pub, list) else pub))
        except Exception as exc:
            raise ParamsError(
                f"params.pubs[{index}] is not a valid {program_id} PUB: {exc}"
            ) from exc
    return coerced


def _primitive_input(program_id: str, params: str) -> tuple[list[Any], PrimitiveSettings]:
    decoded = decode_params(params)
    settings = settings_from_options(program_id, decoded.get("options") or {})
    settings.resilience_level = decoded.get("resilience_level")
    extra = {k for k, v in decoded.items() if k not in ENVELOPE_PARAMS and v is not None}
    settings.not_applied = sorted({*settings.not_applied, *extra})
    return _coerce_pubs(program_id, decoded), settings


def _validate(program_id: str, params: str, n_qubits: int) -> None:
    """Raise ``ParamsError`` if the params cannot run on a backend of ``n_qubits`` qubits."""
    pubs, settings = _primitive_input(program_id, params)
    for index, pub in enumerate(pubs):
        width = pub.circuit.num_qubits
        if width > n_qubits:
            raise ParamsError(
                f"params.pubs[{index}] has a circuit of {width} qubits; the backend has {n_qubits}."
            )
        check_device_fit(pub.circuit, settings, f"params.pubs[{index}]")


def _max_shots(program_id: str, pubs: list[Any], settings: PrimitiveSettings) -> int:
    if program_id == "sampler":
        default = settings.shots or DEFAULT_SAMPLER_SHOTS
        return max(pub.shots or default for pub in pubs)
    default_precision = (
        settings.precision
        or (1 / math.sqrt(settings.shots) if settings.shots else None)
        or DEFAULT_ESTIMATOR_PRECISION
    )
    return max(math.ceil(1 / (pub.precision or default_precision) ** 2) for pub in pubs)


def _with_circuit(pub: Any, circuit: Any) -> Any:
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    if isinstance(pub, SamplerPub):
        return SamplerPub(circuit, pub.parameter_values, pub.shots, validate=False)
    return EstimatorPub(circuit, pub.observables, pub.parameter_values, pub.precision, False)


@contextlib.contextmanager
def _recording_methods(
    backend: Any, run_options: dict[str, Any] | None = None
) -> Iterator[tuple[list[str], list[str]]]:
    """Collect the simulation method and device Aer reports for each circuit the primitive runs,
    and give every run ``run_options`` (the plan's, which the estimator cannot pass itself).

    The primitives drop Aer's result metadata, so the backend's ``run`` is wrapped for the
    duration of one job (on an object this worker owns; nothing global is touched)."""
    methods: list[str] = []
    devices: list[str] = []
    jobs: list[Any] = []
    original = backend.run

    def run(*args: Any, **kwargs: Any) -> Any:
        job = original(*args, **{**(run_options or {}), **kwargs})
        jobs.append(job)
        return job

    backend.run = run
    try:
        yield methods, devices
    finally:
        del backend.run
        for job in jobs:
            with contextlib.suppress(Exception):
                for result in job.result().results:
                    methods.append(result.metadata.get("method", ""))
                    devices.append(result.metadata.get("device", ""))


def _with_array_fields(result: Any) -> Any:
    """The result with every scalar data field as a 0-d array, as IBM's estimator returns it:
    ``BackendEstimatorV2`` gives the ``stds`` of a PUB of shape ``()`` as a float."""
    import numpy as np
    from qiskit.primitives import PrimitiveResult, PubResult
    from qiskit.primitives.containers import DataBin

    pubs = []
    for pub in result:
        fields = {
            name: np.asarray(value) if isinstance(value, (float, int, np.number)) else value
            for name, value in pub.data.items()
        }
        pubs.append(PubResult(DataBin(**fields, shape=pub.data.shape), metadata=pub.metadata))
    return PrimitiveResult(pubs, metadata=result.metadata)


def _one_or_all(values: list[str], default: str) -> str | list[str]:
    found = sorted({v for v in values if v}) or [default]
    return found[0] if len(found) == 1 else found


def _run(task: Task, runner: ProgramRunner, log: logging.Logger) -> tuple[str, dict[str, Any]]:
    from qiskit.primitives import BackendSamplerV2
    from qiskit_ibm_runtime import RuntimeEncoder

    steps = Steps()
    program_id = task.program_id
    executor = runner.executor(task.backend.executor)
    pubs, settings = _primitive_input(program_id, task.params)
    steps.lap("decode")
    from .legacy_mitigation import maybe_run  # twirling and resilience (issue 18)

    if (mitigated := maybe_run(task, runner, log, pubs, settings)) is not None:
        return mitigated
    if program_id == "sampler" and settings.shots is None and executor.default_shots:
        settings.shots = executor.default_shots
        log.info("Default shots of executor '%s': %d.", executor.name, settings.shots)
    noisy = executor.noisy or settings.noise_model is not None
    plan = executor.plan(
        [pub.circuit for pub in pubs],
        noisy=noisy,
        shots=_max_shots(program_id, pubs, settings),
        budget_bytes=task.memory_budget,
        parameterized=[pub.circuit.num_parameters > 0 for pub in pubs],
    )
    pubs = [_with_circuit(p, c) for p, c in zip(pubs, plan.circuits, strict=True)]
    log.info("Simulation method: %s. %s", plan.method, plan.reason)
    log_not_applied(log, settings.not_applied)
    steps.lap("plan")
    backend = runner.backend(task.backend, executor, settings, plan.method)
    if noisy and plan.method == "matrix_product_state" and not hasattr(backend, "set_max_qubits"):
        # A fake backend's own simulator runs noisy matrix product states 6 times slower than
        # AerSimulator.from_backend of it (measured on a 40-qubit GHZ on fake_aachen).
        backend = runner.aer_simulator(backend)
    prim_options: dict[str, Any] = {}
    if settings.seed is not None:
        prim_options["seed_simulator"] = settings.seed
    run_kwargs: dict[str, Any] = {}
    if program_id == "sampler":
        if settings.shots:
            prim_options["default_shots"] = settings.shots
        # The plan's run options (method, max_parallel_shots) keep Aer within the estimate.
        if run_options := {**plan.run_options, **settings.run_options}:
            prim_options["run_options"] = run_options
        primitive: Any = BackendSamplerV2(backend=backend, options=prim_options)
    else:
        if settings.shots:
            run_kwargs["precision"] = 1 / math.sqrt(settings.shots)
        if settings.precision:
            prim_options["default_precision"] = settings.precision
        primitive = runner.backend_estimator(backend, prim_options)
    log.info("Running %s on %s with %d PUB(s).", program_id, task.backend.name, len(pubs))
    steps.lap("backend")
    started = time.perf_counter()
    estimator_options = plan.run_options if program_id == "estimator" else None
    with _recording_methods(backend, estimator_options) as (methods, devices):
        result = primitive.run(pubs, **run_kwargs).result()
    seconds = time.perf_counter() - started
    steps.lap("simulate")
    if program_id == "sampler" and settings.meas_type != "classified":
        from ..kerneled import kerneled_result

        result = kerneled_result(result, settings.meas_type, settings.seed)
    if program_id == "estimator":
        result = _with_array_fields(result)
    used = _one_or_all(methods, plan.method)
    device = _one_or_all(devices, "")
    log.info(
        "Simulation finished in %.3f s (Aer method: %s%s).",
        seconds,
        used if isinstance(used, str) else ", ".join(used),
        f"; device: {device}" if isinstance(device, str) and device else "",
    )
    result.metadata["simulator"] = {
        "executor": executor.name,
        "method": used,
        "device": device or None,
        "planned_method": plan.method,
        "reason": plan.reason,
        "active_qubits": plan.active_qubits,
        "estimated_memory_bytes": plan.memory_bytes,
    }
    metrics = run_metrics(
        runner,
        seconds,
        [pub.circuit for pub in pubs],
        simulator=result.metadata["simulator"],
    )
    encoded = json.dumps(result, cls=RuntimeEncoder)
    steps.lap("encode")
    metrics["worker_seconds"] = steps.seconds
    return encoded, metrics


#: SamplerV2.
SAMPLER = Program(
    "sampler",
    "SamplerV2: samples the outcomes of circuits",
    functools.partial(_validate, "sampler"),
    _run,
)
#: EstimatorV2.
ESTIMATOR = Program(
    "estimator",
    "EstimatorV2: estimates expectation values of observables",
    functools.partial(_validate, "estimator"),
    _run,
)

"""Error mitigation and twirling for the legacy ``estimator`` and ``sampler`` programs.

IBM's service applies the resilience and twirling options of ``EstimatorV2`` and ``SamplerV2``
itself. The client's executor-based primitives (``qiskit_ibm_runtime.executor_estimator`` and
``executor_sampler``) apply the same options with ``qiskit-mitigation`` and ``samplomatic``: they
prepare a ``QuantumProgram`` (twirling, TREX, gate folding, noise injection), send it as an
executor job and post-process its result. A legacy job that asks for mitigation runs that very
code here, in the worker: the client's ``prepare``, local testing mode's ``run_quantum_program``
(what the ``executor`` program runs) and the client's post-processor, whose ``PrimitiveResult``
is returned in the legacy shape. PEA and PEC need the layers' noise, which the legacy service
learns within the job; ``layer_noise.py`` gives it (see docs/mitigation.md).

On a noise-free simulator there is nothing to mitigate: the options are accepted, their cost is
skipped, and the ZNE fields are filled with the unamplified values (``ideal.py``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..errors import ParamsError
from ..options import PrimitiveSettings
from ..task import Task
from .runner import ProgramRunner, log_not_applied, run_metrics

__all__ = ["UNSET_LEVEL", "applied_options", "estimator_options", "maybe_run", "sampler_options"]

#: The resilience level of an estimator job that sets none. IBM's service takes 1 (TREX); this
#: server takes 0, as local testing mode does, so that a job that asks for nothing is simulated
#: exactly as before and as locally (see docs/mitigation.md).
UNSET_LEVEL = 0

#: The option sections this module applies, as dotted-path prefixes.
MITIGATION_PREFIXES = {
    "estimator": ("resilience.", "twirling."),
    "sampler": ("twirling.",),
}
#: Options under those prefixes that are not applied: the layers' noise is derived, not learned
#: by an experiment (see layer_noise.py).
NOT_APPLIED_PREFIX = "resilience.layer_noise_learning."


def applied_options(program_id: str, names: list[str]) -> list[str]:
    """The names among ``names`` (dotted option paths) that this module applies."""
    prefixes = MITIGATION_PREFIXES.get(program_id, ())
    return [n for n in names if n.startswith(prefixes) and not n.startswith(NOT_APPLIED_PREFIX)]


def _level(level: Any) -> int | None:
    """The job's ``resilience_level`` (a top-level param, as decoded), checked."""
    if level is None:
        return None
    if isinstance(level, bool) or level not in (0, 1, 2):
        raise ParamsError(f"resilience_level must be 0, 1 or 2, not {level!r}.")
    return int(level)


def _model(cls: Any, values: dict[str, Any], program_id: str) -> Any:
    from pydantic import ValidationError

    try:
        return cls(**values)
    except ValidationError as exc:
        shown = "; ".join(
            f"options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)[:3]
        )
        raise ParamsError(f"The {program_id} options are not valid: {shown}") from exc


def _clean(section: Any) -> dict[str, Any]:
    """The options of a section that are set (the legacy client drops unset ones)."""
    if not isinstance(section, dict):
        return {}
    return {
        k: (_clean(v) if isinstance(v, dict) else v) for k, v in section.items() if v is not None
    }


def estimator_options(raw: dict[str, Any], level: int | None, settings: PrimitiveSettings) -> Any:
    """The client's ``options_models.EstimatorOptions`` for a legacy estimator job's options."""
    from qiskit_ibm_runtime.options_models.estimator import EstimatorOptions

    resilience = _clean(raw.get("resilience"))
    resilience.pop("layer_noise_model", None)
    resilience.pop("layer_noise_learning", None)  # applied by layer_noise, not by the model
    values: dict[str, Any] = {
        "resilience_level": UNSET_LEVEL if level is None else level,
        "resilience": resilience,
        "twirling": _clean(raw.get("twirling")),
    }
    if settings.precision is not None:
        values["default_precision"] = settings.precision
    if settings.shots is not None:
        values["default_shots"] = settings.shots
    options = _model(EstimatorOptions, values, "estimator")
    _check_estimator(options)
    return options


def _check_estimator(options: Any) -> None:
    """Refuse what the client's estimator refuses before it prepares anything."""
    from qiskit_ibm_runtime.exceptions import IBMInputValueError
    from qiskit_ibm_runtime.executor_estimator.prepare import normalise_extrapolator
    from qiskit_ibm_runtime.executor_estimator.utils import (
        resolve_noise_factors,
        validate_noise_factors,
    )

    resilience = options.resilience
    if resilience.pec_mitigation and resilience.zne_mitigation:
        raise ParamsError(
            "options.resilience: PEC mitigation and ZNE mitigation are incompatible with one "
            "another."
        )
    try:
        factors, _ = resolve_noise_factors(resilience.zne)
        validate_noise_factors(factors, normalise_extrapolator(resilience.zne.extrapolator))
    except (IBMInputValueError, ValueError) as exc:
        raise ParamsError(f"options.resilience.zne: {exc}") from exc


def sampler_options(raw: dict[str, Any], settings: PrimitiveSettings) -> Any:
    """The client's ``options_models.SamplerOptions`` for a legacy sampler job's options."""
    from qiskit_ibm_runtime.options_models.sampler import SamplerOptions

    from .primitives import DEFAULT_SAMPLER_SHOTS

    values: dict[str, Any] = {
        "twirling": _clean(raw.get("twirling")),
        "default_shots": settings.shots or DEFAULT_SAMPLER_SHOTS,
    }
    return _model(SamplerOptions, values, "sampler")


def _wanted(program_id: str, options: Any) -> bool:
    """Whether the finalized options ask for anything beyond a plain simulation."""
    if program_id == "sampler":
        from qiskit_ibm_runtime.executor_sampler.finalize_options import finalize_sampler_options

        twirling = finalize_sampler_options(options).twirling
        return bool(twirling.enable_gates or twirling.enable_measure)
    from qiskit_ibm_runtime.executor_estimator.finalize_options import (
        finalize_estimator_options,
    )

    final = finalize_estimator_options(options)
    r, t = final.resilience, final.twirling
    return bool(
        r.measure_mitigation
        or r.zne_mitigation
        or r.pec_mitigation
        or t.enable_gates
        or t.enable_measure
    )


def maybe_run(
    task: Task,
    runner: ProgramRunner,
    log: logging.Logger,
    pubs: list[Any],
    settings: PrimitiveSettings,
) -> tuple[str, dict[str, Any]] | None:
    """Run a legacy job that asks for mitigation or twirling; ``None`` for any other job (the
    plain path runs it). ``settings.not_applied`` loses the options applied here."""
    program_id = task.program_id
    level = _level(settings.resilience_level) if program_id == "estimator" else None
    applied = set(applied_options(program_id, settings.not_applied))
    if program_id == "estimator":
        applied.add("resilience_level")
    if not settings.mitigation and level is None:
        settings.not_applied = [n for n in settings.not_applied if n not in applied]
        return None
    raw = settings.mitigation or {}
    if program_id == "estimator":
        options = estimator_options(raw, level, settings)
    else:
        options = sampler_options(raw, settings)
    settings.not_applied = [n for n in settings.not_applied if n not in applied]
    if not _wanted(program_id, options):
        return None
    executor = runner.executor(task.backend.executor)
    if not (executor.noisy or settings.noise_model is not None):
        from .ideal import run_ideal

        return run_ideal(task, runner, log, options, sorted(applied & set(_all_set(raw, level))))
    given = (raw.get("resilience") or {}).get("layer_noise_model")
    return _run_noisy(task, runner, log, pubs, settings, options, given)


def _all_set(raw: dict[str, Any], level: int | None) -> list[str]:
    from ..options import set_options

    names = list(set_options(raw))
    return names + (["resilience_level"] if level is not None else [])


def _prepare(
    program_id: str, pubs: list[Any], options: Any, backend: Any, given: Any, log: logging.Logger
) -> Any:
    from qiskit_ibm_runtime.exceptions import IBMInputValueError

    try:
        if program_id == "sampler":
            from qiskit_ibm_runtime.executor_sampler.prepare import prepare as prepare_sampler

            program, _ = prepare_sampler(pubs, options, None, add_tags=True, backend=backend)
            program._semantic_role = "sampler_v2"
        else:
            from qiskit_ibm_runtime.executor_estimator.prepare import prepare as prepare_estimator

            from .layer_noise import with_layer_noise

            options = with_layer_noise(pubs, options, backend, _layer_errors(given), log)
            program, _ = prepare_estimator(pubs, options, None, add_tags=True, backend=backend)
            program._semantic_role = "estimator_v2"
    except IBMInputValueError as exc:
        raise ParamsError(str(exc)) from exc
    return program


def _layer_errors(given: Any) -> list[Any]:
    """The ``LayerError``s of a legacy ``resilience.layer_noise_model`` (a ``NoiseLearnerResult``
    or a list of ``LayerError``s), checked."""
    from qiskit_ibm_runtime.utils.noise_learner_result import LayerError

    if given is None:
        return []
    errors = list(getattr(given, "data", given)) if not isinstance(given, str) else []
    if not all(isinstance(e, LayerError) for e in errors) or isinstance(given, str):
        raise ParamsError(
            "options.resilience.layer_noise_model must be a NoiseLearnerResult or a list of "
            "LayerError."
        )
    return errors


def _run_noisy(
    task: Task,
    runner: ProgramRunner,
    log: logging.Logger,
    pubs: list[Any],
    settings: PrimitiveSettings,
    options: Any,
    given: Any,
) -> tuple[str, dict[str, Any]]:
    from qiskit_ibm_runtime import RuntimeEncoder
    from qiskit_ibm_runtime.options_models.simulator import SimulatorOptions

    from .legacy_results import legacy_result
    from .quantum_program import plan_reductions, planned_circuits, run_program

    program_id = task.program_id
    executor = runner.executor(task.backend.executor)
    log_not_applied(log, settings.not_applied)
    backend = runner.backend(task.backend, executor, settings, "automatic")
    started = time.perf_counter()
    program = _prepare(program_id, pubs, options, backend, given, log)
    prepared = time.perf_counter()
    # The executor program's run path: wide noisy circuits split into independent groups of
    # measured qubits (the client's measurement box measures every qubit of the device).
    simulator = runner.aer_simulator(backend)
    reductions = plan_reductions(program, simulator, True)
    plan = executor.plan(
        planned_circuits(program, reductions),
        noisy=True,
        shots=program.shots,
        budget_bytes=task.memory_budget,
        parameterized=None,
    )
    randomizations = sum(int(item.size()) for item in program.items)
    log.info(
        "Mitigation prepared in %.3f s with the client's own code: %d item(s), %d "
        "randomization(s) of %d shots (%d shots in all). %s",
        prepared - started,
        len(program.items),
        randomizations,
        program.shots,
        randomizations * program.shots,
        plan.reason,
    )
    run_options = dict(plan.run_options) if plan.method == "matrix_product_state" else {}
    options_ = SimulatorOptions(seed_simulator=settings.seed)
    result = run_program(simulator, program, options_, reductions, run_options)
    ran = time.perf_counter()
    if program_id == "sampler":
        from qiskit_ibm_runtime.decoders.executor_sampler.post_processor_v0_1 import (
            sampler_v2_post_processor_v0_1 as post_process,
        )
    else:
        from qiskit_ibm_runtime.decoders.executor_estimator.post_processor_v0_1 import (
            estimator_v2_post_processor_v0_1 as post_process,
        )
    primitive_result = legacy_result(program_id, post_process(result), program, options)
    seconds = time.perf_counter() - started
    log.info(
        "Simulation finished in %.3f s (preparation %.3f s, execution %.3f s, post-processing "
        "%.3f s).",
        seconds,
        prepared - started,
        ran - prepared,
        seconds - (ran - started),
    )
    simulator = {
        "executor": executor.name,
        "method": "automatic",
        "reason": plan.reason,
        "estimated_memory_bytes": plan.memory_bytes,
        "mitigation": "applied",
        "total_shots": randomizations * program.shots,
    }
    primitive_result.metadata["simulator"] = simulator
    metrics = run_metrics(runner, seconds, [p.circuit for p in pubs], simulator=simulator)
    return json.dumps(primitive_result, cls=RuntimeEncoder), metrics

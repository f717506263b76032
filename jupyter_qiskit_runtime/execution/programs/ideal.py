"""Mitigation options on a noise-free simulator: accepted, their cost skipped.

There is no noise to mitigate, so a job that asks for twirling, TREX, ZNE or PEC runs as a plain
job; its result still has every field the mitigated one would have, each ZNE field filled with
the unamplified value (the same at every noise factor and extrapolated point), and its logs and
metadata say so."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from ..task import Task
from .runner import ProgramRunner

__all__ = ["SKIPPED_NOTE", "run_ideal"]

#: What the logs and ``metadata["resilience"]["note"]`` say.
SKIPPED_NOTE = (
    "there is no noise to mitigate on a noise-free simulator; their cost is skipped and any "
    "ZNE field holds the unamplified value"
)


def _plain_params(params: str) -> str:
    """The params without their mitigation options."""
    decoded = json.loads(params)
    decoded.pop("resilience_level", None)
    options = decoded.get("options")
    if isinstance(options, dict):
        options.pop("resilience", None)
        options.pop("twirling", None)
    return json.dumps(decoded)


def run_ideal(
    task: Task, runner: ProgramRunner, log: logging.Logger, options: Any, names: list[str]
) -> tuple[str, dict[str, Any]]:
    """Run a job that asks for mitigation on a noise-free simulator, as a plain job."""
    from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

    from . import primitives
    from .legacy_results import finalized_options, job_metadata

    log.warning("Options not applied by this server: %s (%s).", ", ".join(names), SKIPPED_NOTE)
    program = primitives.SAMPLER if task.program_id == "sampler" else primitives.ESTIMATOR
    plain = dataclasses.replace(task, params=_plain_params(task.params))
    encoded, metrics = program.run(plain, runner, log)
    finalized = finalized_options(task.program_id, options)
    result = json.loads(encoded, cls=RuntimeDecoder)
    metadata = {**job_metadata(task.program_id, finalized), **result.metadata}
    metadata.setdefault("resilience", {})["note"] = SKIPPED_NOTE
    metadata["twirling"]["note"] = SKIPPED_NOTE
    if task.program_id == "estimator":
        result = _estimator_fields(result, finalized, metadata)
    else:
        result.metadata.update(metadata)
    metrics.setdefault("simulator", {})["mitigation"] = "skipped: noise-free simulator"
    return json.dumps(result, cls=RuntimeEncoder), metrics


def _estimator_fields(result: Any, finalized: Any, metadata: dict[str, Any]) -> Any:
    """The estimator's result with ``ensemble_standard_error`` and, with ZNE, the ZNE fields."""
    import numpy as np
    from qiskit.primitives import PrimitiveResult
    from qiskit.primitives.containers import DataBin
    from qiskit_ibm_runtime.executor_estimator.prepare import normalise_extrapolator
    from qiskit_ibm_runtime.executor_estimator.utils import resolve_noise_factors
    from qiskit_ibm_runtime.results.estimator_pub import EstimatorPubResult

    resilience = finalized.resilience
    pub_results = []
    for pub_result in result:
        evs = np.asarray(pub_result.data.evs, dtype=float)
        stds = np.asarray(pub_result.data.stds, dtype=float)
        fields: dict[str, Any] = {"evs": evs, "stds": stds, "ensemble_standard_error": stds}
        pub_meta = dict(pub_result.metadata)
        if resilience.zne_mitigation:
            factors, points = resolve_noise_factors(resilience.zne)
            extrapolators = normalise_extrapolator(resilience.zne.extrapolator)
            n, m, k = len(factors), len(extrapolators), len(points)
            fields["evs_noise_factors"] = np.repeat(evs[..., None], n, axis=-1)
            fields["stds_noise_factors"] = np.repeat(stds[..., None], n, axis=-1)
            fields["ensemble_stds_noise_factors"] = fields["stds_noise_factors"]
            fields["evs_extrapolated"] = np.broadcast_to(evs[..., None, None], (*evs.shape, m, k))
            fields["stds_extrapolated"] = np.broadcast_to(
                stds[..., None, None], (*stds.shape, m, k)
            ).copy()
            fields["evs_extrapolated"] = fields["evs_extrapolated"].copy()
            pub_meta["resilience"] = {"zne": {"extrapolators": np.full(evs.shape, "none")}}
        pub_results.append(
            EstimatorPubResult(data=DataBin(**fields, shape=evs.shape), metadata=pub_meta)
        )
    return PrimitiveResult(pub_results, metadata=metadata)

"""The legacy ``PrimitiveResult`` of a mitigated job: the client's executor post-processor gives
the data; the metadata takes the shape IBM's legacy service gives it (``twirling``,
``resilience`` and ``dynamical_decoupling`` of the job, ``shots``, ``target_precision``,
``num_randomizations`` and ``circuit_metadata`` of each PUB)."""

from __future__ import annotations

from typing import Any

__all__ = ["finalized_options", "job_metadata", "legacy_result"]

#: The version of the result format the legacy programs return.
RESULT_VERSION = 2


def job_metadata(program_id: str, options: Any) -> dict[str, Any]:
    """The job-level metadata IBM's legacy programs return, for finalized ``options``."""
    twirling = options.twirling
    metadata: dict[str, Any] = {
        "dynamical_decoupling": {"enable": False},
        "twirling": {
            "enable_gates": bool(twirling.enable_gates),
            "enable_measure": bool(twirling.enable_measure),
            "num_randomizations": twirling.num_randomizations,
            "shots_per_randomization": twirling.shots_per_randomization,
            "interleave_randomizations": True,
            "strategy": twirling.strategy,
        },
        "version": RESULT_VERSION,
    }
    if program_id == "estimator":
        resilience = options.resilience
        metadata["resilience"] = {
            "measure_mitigation": bool(resilience.measure_mitigation),
            "zne_mitigation": bool(resilience.zne_mitigation),
            "pec_mitigation": bool(resilience.pec_mitigation),
        }
        if resilience.zne_mitigation:
            zne = resilience.zne
            metadata["resilience"]["zne"] = {
                "noise_factors": list(zne.noise_factors)
                if not isinstance(zne.noise_factors, str)
                else zne.noise_factors,
                "extrapolator": zne.extrapolator
                if isinstance(zne.extrapolator, str)
                else list(zne.extrapolator),
                "extrapolated_noise_factors": list(zne.extrapolated_noise_factors)
                if not isinstance(zne.extrapolated_noise_factors, str)
                else zne.extrapolated_noise_factors,
                "amplifier": zne.amplifier,
            }
    return metadata


def legacy_result(program_id: str, result: Any, program: Any, options: Any) -> Any:
    """The legacy ``PrimitiveResult`` of the client post-processor's ``result`` of ``program``
    run with ``options`` (the client's options model)."""
    from qiskit.primitives import PrimitiveResult
    from qiskit_ibm_runtime.results.estimator_pub import EstimatorPubResult

    finalized = finalized_options(program_id, options)
    meta = result.metadata or {}
    shots = int(meta.get("shots") or program.shots)
    randomizations = _randomizations(program)
    pub_results = []
    for pub_result in result:
        pub_meta = dict(pub_result.metadata)
        pub_meta.pop("executor", None)
        pub_meta.setdefault("circuit_metadata", {})
        pub_meta["num_randomizations"] = randomizations
        if program_id == "estimator":
            pub_meta["shots"] = shots
            pub_meta["target_precision"] = meta.get("target_precision") or shots**-0.5
            pub_results.append(EstimatorPubResult(data=pub_result.data, metadata=pub_meta))
        else:
            pub_results.append(type(pub_result)(data=pub_result.data, metadata=pub_meta))
    return PrimitiveResult(pub_results, metadata=job_metadata(program_id, finalized))


def finalized_options(program_id: str, options: Any) -> Any:
    """The options the client finalizes from ``options`` (the level's defaults applied)."""
    if program_id == "sampler":
        from qiskit_ibm_runtime.executor_sampler.finalize_options import finalize_sampler_options

        return finalize_sampler_options(options)
    from qiskit_ibm_runtime.executor_estimator.finalize_options import finalize_estimator_options

    return finalize_estimator_options(options)


def _randomizations(program: Any) -> int:
    """The randomizations of the program's first item (each item has as many)."""
    items = list(program.items)
    if not items:
        return 1
    shape = tuple(items[0].shape)
    return int(shape[0]) if shape else 1

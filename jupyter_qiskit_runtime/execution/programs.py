"""The primitive programs: decode a job's params, run it on a simulator, encode the result.

``run_task`` runs inside a worker process. ``validate_params`` runs in the server (in a thread) at
submission, so that undecodable input is a 400 for the client rather than a failed job. Qiskit is
imported here, never at the package's import time.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

#: The programs this server runs, with what each one does.
PROGRAMS = {
    "sampler": "SamplerV2: samples the outcomes of circuits",
    "estimator": "EstimatorV2: estimates expectation values of observables",
}

#: The options each program applies, as dotted paths. Every other option that is set is accepted
#: and named in the job's logs as not applied, never silently dropped.
APPLIED_OPTIONS = {
    "sampler": frozenset({"default_shots", "simulator.seed_simulator"}),
    "estimator": frozenset({"default_shots", "default_precision", "simulator.seed_simulator"}),
}


class ParamsError(ValueError):
    """The params cannot be decoded or do not describe valid PUBs."""


def preload() -> None:
    """Import the heavy modules once, so a warm worker's first job pays nothing for them."""
    importlib.import_module("qiskit_aer")
    importlib.import_module("qiskit.primitives")
    importlib.import_module("qiskit_ibm_runtime.fake_provider")


def decode_params(params: str) -> dict[str, Any]:
    """Decode the client's RuntimeEncoder JSON into Python objects."""
    from qiskit_ibm_runtime import RuntimeDecoder

    try:
        decoded = json.loads(params, cls=RuntimeDecoder)
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


def validate_params(program_id: str, params: str, n_qubits: int) -> None:
    """Raise ``ParamsError`` if the params cannot run on a backend of ``n_qubits`` qubits."""
    decoded = decode_params(params)
    options = decoded.get("options", {})
    if not isinstance(options, dict):
        raise ParamsError("params.options must be a JSON object.")
    for index, pub in enumerate(_coerce_pubs(program_id, decoded)):
        width = pub.circuit.num_qubits
        if width > n_qubits:
            raise ParamsError(
                f"params.pubs[{index}] has a circuit of {width} qubits; the backend has {n_qubits}."
            )


def set_options(options: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the options that are set (not None, not an empty list or mapping)."""
    for key, value in options.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from set_options(value, f"{path}.")
        elif value is not None and not (isinstance(value, list) and not value):
            yield path


class ProgramRunner:
    """Runs tasks in a worker process, keeping each backend's simulator for the next job."""

    def __init__(self) -> None:
        self._simulators: dict[tuple[str, bool], Any] = {}

    def simulator(self, spec: dict[str, Any]) -> Any:
        """The backend object for a catalog entry: the fake backend itself when noisy, as IBM's
        local testing mode runs it, else a noise-free Aer simulator."""
        key = (spec["fake_class"] or spec["name"], bool(spec["noisy"]))
        if key not in self._simulators:
            if spec["noisy"] and spec["fake_class"]:
                module, cls = spec["fake_class"].split(":")
                backend = getattr(importlib.import_module(module), cls)()
            else:
                from qiskit_aer import AerSimulator

                backend = AerSimulator()
            self._simulators[key] = backend
        return self._simulators[key]

    def run(self, task: dict[str, Any], log: logging.Logger) -> tuple[Any, dict[str, Any]]:
        """Run one task; the primitive result and metrics."""
        from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2

        program_id = task["program_id"]
        params = decode_params(task["params"])
        pubs = _coerce_pubs(program_id, params)
        options: dict[str, Any] = dict(params.get("options") or {})
        backend = self.simulator(task["backend"])
        prim_options: dict[str, Any] = {}
        simulator_options = dict(options.get("simulator") or {})
        if (seed := simulator_options.pop("seed_simulator", None)) is not None:
            prim_options["seed_simulator"] = seed
        run_kwargs: dict[str, Any] = {}
        if program_id == "sampler":
            if shots := options.get("default_shots"):
                prim_options["default_shots"] = shots
            primitive: Any = BackendSamplerV2(backend=backend, options=prim_options)
        else:
            if shots := options.get("default_shots"):
                run_kwargs["precision"] = 1 / shots**0.5
            if precision := options.get("default_precision"):
                prim_options["default_precision"] = precision
            primitive = BackendEstimatorV2(backend=backend, options=prim_options)
        ignored = sorted(set(set_options(options)) - APPLIED_OPTIONS[program_id])
        if ignored:
            log.warning("Options not applied by this server: %s", ", ".join(ignored))
        log.info("Running %s on %s with %d PUB(s).", program_id, task["backend"]["name"], len(pubs))
        started = time.perf_counter()
        result = primitive.run(pubs, **run_kwargs).result()
        seconds = time.perf_counter() - started
        log.info("Simulation finished in %.3f s.", seconds)
        metrics = {
            "usage_seconds": seconds,
            "num_qubits": [pub.circuit.num_qubits for pub in pubs],
            "circuit_depths": [pub.circuit.depth() for pub in pubs],
        }
        return result, metrics


def run_task(task: dict[str, Any], runner: ProgramRunner) -> dict[str, Any]:
    """Run a task and answer with plain data: the encoded result or the traceback, and logs."""
    from qiskit_ibm_runtime import RuntimeEncoder

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger(f"jupyter_qiskit_runtime.job.{task['job_id']}")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result, metrics = runner.run(task, log)
            encoded = json.dumps(result, cls=RuntimeEncoder)
        for warning in caught:
            log.warning("%s: %s", warning.category.__name__, warning.message)
        return {"ok": True, "result": encoded, "logs": stream.getvalue(), "metrics": metrics}
    except Exception as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "logs": stream.getvalue(),
        }
    finally:
        log.removeHandler(handler)

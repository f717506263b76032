"""The ``noise-learner`` program (``qiskit_ibm_runtime.NoiseLearner``): the Pauli-Lindblad noise
of the twirled layers of a job's circuits, as a ``NoiseLearnerResult`` of ``LayerError``s.

The layers are found as the client's estimator finds them (``qiskit-mitigation``'s boxing with
the job's ``twirling_strategy``), the most frequent first, at most ``max_layers_to_learn``. Their
noise is derived exactly from the simulated noise (``layer_noise.py``), so the options that shape
a learning experiment (``num_randomizations``, ``shots_per_randomization``,
``layer_pair_depths``) are accepted and named in the logs as not applied.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from typing import Any

from ..errors import ParamsError
from ..task import Task
from .runner import Program, ProgramRunner, log_not_applied, run_metrics

__all__ = ["NOISE_LEARNER", "decode_learner_params"]

#: IBM's default for ``max_layers_to_learn``.
DEFAULT_MAX_LAYERS = 4
#: The twirling strategies IBM's learner takes.
STRATEGIES = ("active", "active-accum", "active-circuit", "all")
#: Options that shape the learning experiment, which a derivation does not run.
EXPERIMENT_OPTIONS = ("num_randomizations", "shots_per_randomization", "layer_pair_depths")


def decode_learner_params(params: str) -> tuple[list[Any], dict[str, Any]]:
    """The circuits and options of a noise-learner job; ``ParamsError`` if they are not valid."""
    from qiskit import QuantumCircuit

    from .primitives import decode_params

    decoded = decode_params(params)
    circuits = decoded.get("circuits")
    if not isinstance(circuits, list) or not circuits:
        raise ParamsError("params.circuits must be a non-empty list of circuits.")
    for index, circuit in enumerate(circuits):
        if not isinstance(circuit, QuantumCircuit):
            raise ParamsError(f"params.circuits[{index}] is not a circuit.")
    options = decoded.get("options") or {}
    if not isinstance(options, dict):
        raise ParamsError("params.options must be a JSON object.")
    layers = options.get("max_layers_to_learn", DEFAULT_MAX_LAYERS)
    if layers is not None and (
        isinstance(layers, bool) or not isinstance(layers, int) or layers < 0
    ):
        raise ParamsError(
            f"options.max_layers_to_learn must be a non-negative integer, not {layers!r}."
        )
    strategy = options.get("twirling_strategy", "active-accum")
    if strategy not in STRATEGIES:
        raise ParamsError(
            f"options.twirling_strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}."
        )
    return circuits, options


def _validate(params: str, n_qubits: int) -> None:
    circuits, _ = decode_learner_params(params)
    for index, circuit in enumerate(circuits):
        if circuit.num_qubits > n_qubits:
            raise ParamsError(
                f"params.circuits[{index}] has {circuit.num_qubits} qubits; the backend has "
                f"{n_qubits}."
            )


def _layers(circuits: list[Any], strategy: str) -> list[tuple[Any, Any]]:
    """Each distinct twirled gate layer with the circuit it is in, the most frequent first."""
    from qiskit_ibm_runtime.executor_estimator.utils import estimator_options_to_boxing_options
    from qiskit_ibm_runtime.options_models.twirling import TwirlingOptions
    from qiskit_mitigation import PEC, find_combined_unique_layers

    boxing = estimator_options_to_boxing_options(
        TwirlingOptions(enable_gates=True, enable_measure=False, strategy=strategy),
        measure_mitigation=False,
        inject_noise=True,
        add_tags=True,
    )
    from .layer_noise import layer_key

    counts: Counter[int] = Counter()
    found: list[tuple[Any, Any]] = []
    for circuit in circuits:
        for layer in find_combined_unique_layers(
            circuits=[circuit],
            mitigation_types=[PEC()],
            custom_boxing_options=boxing,
            box_types="gates",
        ):
            key = layer_key(layer, circuit)
            for index, (known, known_circuit) in enumerate(found):
                if layer_key(known, known_circuit) == key:
                    counts[index] += 1
                    break
            else:
                counts[len(found)] += 1
                found.append((layer, circuit))
    order = sorted(range(len(found)), key=lambda i: -counts[i])
    return [found[i] for i in order]


def _layer_error(layer: Any, circuit: Any, model: Any) -> Any:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import PauliList
    from qiskit_ibm_runtime.utils.noise_learner_result import LayerError, PauliLindbladError

    from .layer_noise import layer_noise_terms

    qubits, terms = layer_noise_terms(layer, circuit, model)
    body = layer.operation.body
    gates = QuantumCircuit(len(qubits))
    for inner in body.data:
        if len(inner.qubits) > 1:
            gates.append(inner.operation, [body.find_bit(q).index for q in inner.qubits])
    labels = []
    for paulis, local, _ in terms:
        chars = ["I"] * len(qubits)
        for qubit, pauli in zip(local, paulis, strict=True):
            chars[qubit] = pauli
        labels.append("".join(reversed(chars)))
    generators = PauliList(labels) if labels else PauliList(["I" * len(qubits)])
    rates = [rate for _, _, rate in terms] if labels else [0.0]
    return LayerError(gates, qubits, PauliLindbladError(generators, rates))


def _run(task: Task, runner: ProgramRunner, log: logging.Logger) -> tuple[str, dict[str, Any]]:
    """Runs in a worker: the encoded ``NoiseLearnerResult`` and the metrics."""
    from qiskit_ibm_runtime import RuntimeEncoder

    from ..options import PrimitiveSettings, set_options
    from .layer_noise import noise_model_of

    circuits, options = decode_learner_params(task.params)
    executor = runner.executor(task.backend.executor)
    backend = runner.backend(task.backend, executor, PrimitiveSettings(), "automatic")
    applied = {"max_layers_to_learn", "twirling_strategy"}
    log_not_applied(log, [n for n in set_options(options) if n not in applied])
    started = time.perf_counter()
    layers = _layers(circuits, options.get("twirling_strategy", "active-accum"))
    limit = options.get("max_layers_to_learn", DEFAULT_MAX_LAYERS)
    layers = layers if limit is None else layers[:limit]
    model = noise_model_of(backend) if executor.noisy else None
    if model is None:
        log.info("No noise on %s: every layer's rates are zero.", task.backend.name)
    data = [_layer_error(layer, circuit, model) for layer, circuit in layers]
    seconds = time.perf_counter() - started
    log.info(
        "Learned %d layer(s) in %.3f s from the simulator's noise model (derived, not sampled; "
        "see docs/mitigation.md).",
        len(data),
        seconds,
    )
    metadata = {
        "backend": task.backend.name,
        "input_options": options,
        "simulator": {"executor": executor.name, "learning": "derived from the noise model"},
    }
    encoded = json.dumps({"data": data, "metadata": metadata}, cls=RuntimeEncoder)
    return encoded, run_metrics(runner, seconds, circuits)


#: The noise learner (``qiskit_ibm_runtime.NoiseLearner``).
NOISE_LEARNER = Program(
    "noise-learner",
    "NoiseLearner: the Pauli-Lindblad noise of a circuit's twirled layers",
    _validate,
    _run,
)

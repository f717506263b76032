"""The Pauli-Lindblad noise of a circuit's twirled layers, derived from the simulated noise.

IBM's service learns a layer's noise by running learning circuits on the device (the client's
``NoiseLearnerV3`` runs ``qiskit-noise-learning``'s protocol, a package this server does not
install). Here the noise is the simulator's own, known exactly: each gate of a layer carries
the quantum error of the backend's Aer noise model. Pauli twirling turns that error into a Pauli
channel, whose fidelities ``f_P`` are read from the error's superoperator; the sparse
Pauli-Lindblad model of IBM's learner (one generator per Pauli on the gate's qubits) is the
exact solution of ``-log f_P / 2 = sum_k rate_k [P anticommutes with G_k]``. The layer's model is
the union of its gates' models; the errors of the single-qubit gates of its dressing are added
as they are, not propagated through the layer's two-qubit gates (a bias of the order of their
error rates, ~1e-4 on the fake devices). See docs/mitigation.md.
"""

from __future__ import annotations

import itertools
from typing import Any

__all__ = [
    "layer_error_key",
    "layer_key",
    "layer_noise_maps",
    "layer_noise_model",
    "layer_noise_terms",
    "map_of_layer_error",
    "noise_model_of",
    "pauli_lindblad_rates",
    "with_layer_noise",
]


def noise_model_of(backend: Any) -> Any:
    """The Aer ``NoiseModel`` a backend simulates with, or ``None``."""
    from qiskit_aer.noise import NoiseModel

    model = getattr(getattr(backend, "options", None), "noise_model", None)
    if model is None and getattr(backend, "sim", None) is not None:
        model = getattr(backend.sim.options, "noise_model", None)
    if model is None and hasattr(backend, "_get_noise_model_from_backend_v2"):
        model = NoiseModel.from_backend(backend)
    return model


def _gate_error(model: Any, name: str, qubits: tuple[int, ...]) -> Any:
    local = model._local_quantum_errors.get(name, {})
    if qubits in local:
        return local[qubits]
    return model._default_quantum_errors.get(name)


def pauli_lindblad_rates(error: Any, num_qubits: int) -> dict[str, float]:
    """The Pauli-Lindblad rates (labels, little-endian as Qiskit's) of the Pauli twirl of a
    quantum error on ``num_qubits`` qubits: one generator per non-identity Pauli."""
    import numpy as np
    from qiskit.quantum_info import Pauli, SuperOp

    superop = SuperOp(error).data
    labels = ["".join(p) for p in itertools.product("IXYZ", repeat=num_qubits)][1:]
    paulis = [Pauli(label) for label in labels]
    dim = 2**num_qubits
    fidelities = np.array(
        [
            np.real(np.vdot(vec, superop @ vec)) / dim
            for vec in (p.to_matrix().ravel(order="F") for p in paulis)
        ]
    )
    anticommute = np.array([[0.0 if a.commutes(b) else 1.0 for b in paulis] for a in paulis])
    rates = np.linalg.solve(anticommute, -0.5 * np.log(np.clip(fidelities, 1e-12, None)))
    return {label: max(float(rate), 0.0) for label, rate in zip(labels, rates, strict=True)}


def layer_noise_terms(
    layer: Any, circuit_of: Any, model: Any
) -> tuple[list[int], list[tuple[str, list[int], float]]]:
    """The physical qubits of a boxed layer (a ``CircuitInstruction`` of ``circuit_of``'s
    qubits) and its Pauli-Lindblad terms ``(paulis, local qubits, rate)``, local to the box."""
    box_qubits = [circuit_of.find_bit(q).index for q in layer.qubits]
    body = layer.operation.body
    terms: dict[tuple[str, tuple[int, ...]], float] = {}
    for inner in body.data:
        local = tuple(body.find_bit(q).index for q in inner.qubits)
        physical = tuple(box_qubits[i] for i in local)
        error = None if model is None else _gate_error(model, inner.operation.name, physical)
        if error is None:
            continue
        for label, rate in pauli_lindblad_rates(error, len(physical)).items():
            if rate <= 0.0:
                continue
            # Qiskit labels are little-endian: the last character acts on the first qubit.
            support = [(q, p) for q, p in zip(local, label[::-1], strict=True) if p != "I"]
            key = ("".join(p for _, p in support), tuple(q for q, _ in support))
            terms[key] = terms.get(key, 0.0) + rate
    return box_qubits, [(paulis, list(qubits), rate) for (paulis, qubits), rate in terms.items()]


def layer_noise_maps(layers: list[Any], circuit_of: Any, backend: Any) -> list[Any]:
    """A ``PauliLindbladMap`` for each boxed layer (a ``CircuitInstruction`` of ``circuit_of``'s
    qubits), its qubits local to the box, in the box's qubit order."""
    from qiskit.quantum_info import PauliLindbladMap

    model = noise_model_of(backend)
    maps = []
    for layer in layers:
        qubits, sparse = layer_noise_terms(layer, circuit_of, model)
        maps.append(
            PauliLindbladMap.from_sparse_list(sparse, num_qubits=len(qubits))
            if sparse
            else PauliLindbladMap.identity(len(qubits))
        )
    return maps


def layer_key(layer: Any, circuit: Any) -> frozenset[tuple[str, tuple[int, ...]]]:
    """What makes two boxed layers the same: their multi-qubit gates on the same physical
    qubits (``layer`` is a ``CircuitInstruction`` of ``circuit``'s qubits)."""
    qubits = [circuit.find_bit(q).index for q in layer.qubits]
    body = layer.operation.body
    return frozenset(
        (inner.operation.name, tuple(qubits[body.find_bit(q).index] for q in inner.qubits))
        for inner in body.data
        if len(inner.qubits) > 1
    )


def layer_error_key(layer_error: Any) -> frozenset[tuple[str, tuple[int, ...]]]:
    """The ``layer_key`` of a ``LayerError`` (a noise learner's result for one layer)."""
    circuit, qubits = layer_error.circuit, layer_error.qubits
    return frozenset(
        (inner.operation.name, tuple(qubits[circuit.find_bit(q).index] for q in inner.qubits))
        for inner in circuit.data
        if len(inner.qubits) > 1
    )


def map_of_layer_error(layer: Any, circuit: Any, layer_error: Any) -> Any:
    """A ``LayerError``'s Pauli-Lindblad error as a ``PauliLindbladMap`` local to the box of
    ``layer`` (a ``CircuitInstruction`` of ``circuit``'s qubits), in the box's qubit order."""
    from qiskit.quantum_info import PauliLindbladMap

    box_qubits = [circuit.find_bit(q).index for q in layer.qubits]
    error = layer_error.error
    sparse = []
    for pauli, rate in zip(error.generators, error.rates, strict=True):
        label = pauli.to_label()[::-1]  # little-endian: position j is layer_error.qubits[j]
        terms = [(p, layer_error.qubits[j]) for j, p in enumerate(label) if p != "I"]
        if terms and all(q in box_qubits for _, q in terms):
            sparse.append(
                ("".join(p for p, _ in terms), [box_qubits.index(q) for _, q in terms], float(rate))
            )
    if not sparse:
        return PauliLindbladMap.identity(len(box_qubits))
    return PauliLindbladMap.from_sparse_list(sparse, num_qubits=len(box_qubits))


def layer_noise_model(layers: list[Any], circuit: Any, layer_errors: Any) -> list[Any]:
    """``(layer, PauliLindbladMap)`` pairs for ``resilience.layer_noise_model`` of the client's
    executor-based ``Estimator``, from a ``NoiseLearner`` result (or ``LayerError`` list), for
    the ``layers`` that ``Estimator.find_unique_layers`` gives for PUBs of ``circuit``. A layer
    the result does not cover is left out."""
    known = {layer_error_key(e): e for e in layer_errors if e.error is not None}
    pairs = []
    for layer in layers:
        if (found := known.get(layer_key(layer, circuit))) is not None:
            pairs.append((layer, map_of_layer_error(layer, circuit, found)))
    return pairs


def with_layer_noise(
    pubs: list[Any], options: Any, backend: Any, given: Any = None, log: Any = None
) -> Any:
    """``options`` with ``resilience.layer_noise_model`` set when PEC or PEA needs it, for the
    layers the client's estimator finds in ``pubs``: from ``given`` (the legacy option, a
    ``NoiseLearnerResult`` or ``LayerError`` list) for the layers it covers, from the simulated
    noise for the others."""
    from qiskit_ibm_runtime.executor_estimator.finalize_options import (
        finalize_estimator_options,
    )
    from qiskit_ibm_runtime.executor_estimator.prepare import choose_task_class
    from qiskit_ibm_runtime.executor_estimator.utils import estimator_options_to_boxing_options
    from qiskit_mitigation import PEA, PEC, find_combined_unique_layers

    final = finalize_estimator_options(options)
    task_class = choose_task_class(final.resilience)
    if task_class not in (PEA, PEC) or final.resilience.layer_noise_model is not None:
        return options
    boxing = estimator_options_to_boxing_options(
        final.twirling,
        measure_mitigation=bool(final.resilience.measure_mitigation),
        inject_noise=True,
        add_tags=True,
    )
    layers = find_combined_unique_layers(
        circuits=[pub.circuit for pub in pubs],
        mitigation_types=[task_class() for _ in pubs],
        custom_boxing_options=boxing,
        box_types="gates",
    )
    circuit = pubs[0].circuit
    covered = dict(
        (id(layer), noise) for layer, noise in layer_noise_model(list(layers), circuit, given or [])
    )
    missing = [layer for layer in layers if id(layer) not in covered]
    derived = dict(zip(map(id, missing), layer_noise_maps(missing, circuit, backend), strict=True))
    if log is not None:
        log.info(
            "Layer noise for %s: %d layer(s) from resilience.layer_noise_model, %d derived from "
            "the simulator's noise model.",
            task_class.__name__,
            len(covered),
            len(derived),
        )
    updated = options.model_copy(deep=True)
    updated.resilience.layer_noise_model = [
        (layer, covered.get(id(layer), derived.get(id(layer)))) for layer in layers
    ]
    return updated

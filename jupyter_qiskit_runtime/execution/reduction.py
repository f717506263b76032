"""Simulating only the qubits a noisy circuit uses: independent groups of measured qubits.

A circuit transpiled for a device holds all of the device's qubits. Aer's truncation drops the
qubits no measurement depends on, noise model included (checked in tests/test_idle_qubits.py),
but a circuit that *measures* idle qubits keeps them all: the client's executor-based Estimator
measures every qubit of the device inside its twirled measurement box. Under noise Aer then runs
a density matrix or a statevector shot by shot over the device's full width (a 2-qubit mirror
circuit on a 16-qubit device took 30 times as long as on a 5-qubit one).

The measured qubits fall into groups that no instruction connects. When the noise model is local
(each quantum error acts on the qubits of its own instruction, each readout error on one qubit:
true of every fake backend's model), the final state is a product over the groups and the joint
distribution of the outcomes is the product of the groups' distributions. So each group is
simulated on its own, as a circuit that holds only that group's instructions (Aer's truncation
then drops every other qubit), with its own seed, and the bits are put back together shot by
shot: the same distribution, not the same samples for a seed. Small groups are packed into one
circuit of at most ``PACK_QUBITS`` qubits, so that a device of many idle qubits costs a few
experiments per parameter set rather than one per qubit.

Only worker processes import this module (it imports Qiskit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit.circuit import Barrier, ControlFlowOp, QuantumCircuit

from .clifford import qubit_index

__all__ = [
    "PACK_QUBITS",
    "REDUCE_ABOVE_QUBITS",
    "Reduction",
    "measured_groups",
    "noise_is_local",
    "plan_reduction",
    "sample_reduced",
]

#: Circuits measuring at most this many qubits run whole, so that small devices give local
#: testing mode's very samples for a seed (fake_manila, fake_jakarta: 5 and 7 qubits).
REDUCE_ABOVE_QUBITS = 7
#: Groups are packed into circuits of at most this many qubits (at least one group each).
PACK_QUBITS = 5
#: Below this many qubits Aer does not parallelize a state (its ``statevector_parallel_threshold``):
#: parts this narrow run on one thread, as threads only cost them (by a factor of 5 to 10 for
#: the tiny experiments of idle qubits on a loaded machine).
ONE_THREAD_BELOW_QUBITS = 14


@dataclass(frozen=True)
class Reduction:
    """How one circuit is split: the qubit indices of each packed part (each a union of
    independent groups)."""

    parts: tuple[tuple[int, ...], ...]

    @property
    def width(self) -> int:
        """Qubits of the widest part: what the simulation holds at once."""
        return max(len(p) for p in self.parts)


def measured_groups(circuit: QuantumCircuit) -> list[list[int]] | None:
    """The measured qubits of ``circuit`` in groups that no instruction connects, each sorted,
    in order of their smallest qubit; ``None`` when the circuit cannot be split (control flow,
    classical conditions or stores, instructions on clbits other than a measurement, no
    measurement at all). Two measurements into one clbit join their groups. Qubits outside the
    backward light cone of the measurements are left out."""
    index = qubit_index(circuit)
    parent = list(range(circuit.num_qubits))

    def find(q: int) -> int:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    writer: dict[Any, int] = {}
    measured: set[int] = set()
    for inst in circuit.data:
        op = inst.operation
        name = op.name
        if isinstance(op, ControlFlowOp) or name == "store" or name.startswith("save_"):
            return None
        if getattr(op, "condition", None) is not None:
            return None
        if name == "barrier":
            continue
        if inst.clbits and name != "measure":
            return None
        qubits = [index[q] for q in inst.qubits]
        for q in qubits[1:]:
            parent[find(q)] = find(qubits[0])
        if name == "measure":
            measured.add(qubits[0])
            clbit = inst.clbits[0]
            if clbit in writer:
                parent[find(writer[clbit])] = find(qubits[0])
            writer[clbit] = qubits[0]
    if not measured:
        return None
    roots = {find(q) for q in measured}
    groups: dict[int, list[int]] = {}
    for q in range(circuit.num_qubits):
        root = find(q)
        if root in roots:
            groups.setdefault(root, []).append(q)
    return sorted(groups.values(), key=lambda g: g[0])


def noise_is_local(noise_model: Any) -> bool:
    """Whether every error of an Aer ``NoiseModel`` acts only on the qubits of its instruction
    (quantum errors, the relaxation of delays) and every readout error on one qubit; ``None``
    (no noise) is local."""
    if noise_model is None:
        return True
    from qiskit_aer.noise.passes import RelaxationNoisePass

    default = getattr(noise_model, "_default_readout_error", None)
    if default is not None and default.number_of_qubits != 1:
        return False
    if any(len(qubits) != 1 for qubits in getattr(noise_model, "_local_readout_errors", {})):
        return False
    passes = getattr(noise_model, "_custom_noise_passes", [])
    return all(isinstance(p, RelaxationNoisePass) for p in passes)


def _pack(groups: list[list[int]]) -> tuple[tuple[int, ...], ...]:
    """Groups packed first-fit, widest first, into parts of at most ``PACK_QUBITS`` qubits."""
    parts: list[list[int]] = []
    for group in sorted(groups, key=len, reverse=True):
        for part in parts:
            if len(part) + len(group) <= PACK_QUBITS:
                part.extend(group)
                break
        else:
            parts.append(list(group))
    return tuple(tuple(sorted(p)) for p in parts)


def plan_reduction(circuit: QuantumCircuit, noise_model: Any = None) -> Reduction | None:
    """How to split a noisy circuit, or ``None`` when it runs whole: it measures at most
    ``REDUCE_ABOVE_QUBITS`` qubits, cannot be split, has one group, or ``noise_model`` (when
    given) is not local."""
    groups = measured_groups(circuit)
    if groups is None or len(groups) < 2:
        return None
    if sum(len(g) for g in groups) <= REDUCE_ABOVE_QUBITS or not noise_is_local(noise_model):
        return None
    reduction = Reduction(_pack(groups))
    return reduction if len(reduction.parts) > 1 else None


def part_circuit(circuit: QuantumCircuit, qubits: Sequence[int]) -> QuantumCircuit:
    """``circuit`` with only the instructions on ``qubits`` (barriers cut down to them), with
    all its qubits and clbits: Aer's truncation drops the others."""
    index = qubit_index(circuit)
    keep = set(qubits)
    part = circuit.copy_empty_like()
    for inst in circuit.data:
        where = [index[q] for q in inst.qubits]
        if inst.operation.name == "barrier":
            inside = [circuit.qubits[q] for q in where if q in keep]
            if inside:
                part.append(Barrier(len(inside), label=inst.operation.label), inside)
        elif all(q in keep for q in where):
            part.append(inst)
    return part


def sample_reduced(
    sampler: Any,
    circuit: QuantumCircuit,
    reduction: Reduction,
    parameter_values: Any,
    shots: int,
) -> dict[str, np.ndarray]:
    """Sample ``circuit`` part by part on the backend and with the seed of an Aer ``SamplerV2``
    (``sampler``; every experiment gets a seed of its own; a part without parameters runs once
    with the shots of every parameter set, which then take them in turn): each
    classical register as a bool array ``(*shape, shots, bits)``, bit 0 first, as
    ``BitArray.to_bool_array(order="little")``."""
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    values = None if parameter_values is None else BindingsArray.coerce(parameter_values)
    order = list(circuit.parameters)
    array = values.as_array(order) if values is not None and order else None
    shape = values.shape if values is not None else ()
    size = int(np.prod(shape))
    pubs = []
    for qubits in reduction.parts:
        part = part_circuit(circuit, qubits)
        if part.parameters:
            columns = [order.index(p) for p in part.parameters]
            binding = BindingsArray({tuple(part.parameters): array[..., columns]})  # type: ignore[index]
            pubs.append(SamplerPub(part, binding, shots))
        else:  # one experiment, its shots split among the parameter sets afterwards
            pubs.append(SamplerPub(part, BindingsArray(), shots * size))
    from qiskit_aer.primitives import SamplerV2 as AerSamplerV2

    run_options = dict(sampler.options.run_options)
    if reduction.width < ONE_THREAD_BELOW_QUBITS:
        run_options["max_parallel_threads"] = 1
    # Pubs of one shot count run in one Aer run, where each experiment has a seed of its own;
    # each run has a seed of its own too, drawn from the sampler's (or Aer's when it has none).
    by_shots: dict[int, list[Any]] = {}
    for pub in pubs:
        by_shots.setdefault(pub.shots, []).append(pub)
    seeds: list[int | None] = [None] * len(by_shots)
    if sampler.seed is not None:
        children = np.random.SeedSequence(sampler.seed).spawn(len(by_shots))
        seeds = [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
    out: dict[str, np.ndarray] = {}
    for group, seed in zip(by_shots.values(), seeds, strict=True):
        runner = AerSamplerV2.from_backend(
            sampler._backend, seed=seed, options={"run_options": run_options}
        )
        for result in runner.run(group).result():
            for name, bits in dict(result.data).items():
                array_bits = bits.to_bool_array(order="little").reshape(*shape, shots, -1)
                out[name] = array_bits if name not in out else out[name] | array_bits
    return out

"""Running a ``QuantumProgram`` on Aer as local testing mode's ``run_quantum_program`` does, with
wide noisy circuits split into independent groups of qubits (``reduction.py``).

Item by item, local testing mode binds the circuit's arguments (or samples the samplex, with one
generator seeded by ``seed_simulator`` for the whole program), rounds the angles near multiples
of pi/2 and samples with Aer's ``SamplerV2`` seeded by ``seed_simulator``. This does the same,
in the same order, so that an item that runs whole gives local testing mode's very samples for a
seed; an item that ``plan_reduction`` splits gives the same distribution. Qiskit is imported
when a function runs, never at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit_ibm_runtime.options_models.simulator import SimulatorOptions
    from qiskit_ibm_runtime.quantum_program import QuantumProgram
    from qiskit_ibm_runtime.results import QuantumProgramResult

    from ..reduction import Reduction

__all__ = ["plan_reductions", "run_program"]


def plan_reductions(program: QuantumProgram, simulator: Any, noisy: bool) -> list[Reduction | None]:
    """Per item, how its circuit is split (``None``: it runs whole). Only noisy simulations
    are split; a noise-free one samples every shot from one final state anyway."""
    from ..reduction import plan_reduction

    if not noisy:
        return [None] * len(program.items)
    noise_model = getattr(simulator.options, "noise_model", None)
    return [plan_reduction(item.circuit, noise_model) for item in program.items]


def run_program(
    simulator: Any,
    program: QuantumProgram,
    options: SimulatorOptions,
    reductions: Sequence[Reduction | None],
    run_options: dict[str, Any] | None = None,
) -> QuantumProgramResult:
    """Run ``program`` on an ``AerSimulator`` (kept by the worker: it is not changed), each item
    whole or split as ``reductions`` say, with Aer ``run_options`` (the planned method when the
    planner chose one: noisy wide circuits on matrix product states)."""
    import numpy as np
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.sampler_pub import SamplerPub
    from qiskit_aer.primitives import SamplerV2 as AerSamplerV2
    from qiskit_ibm_runtime.fake_provider.executor.broadcast_sample import broadcast_sample
    from qiskit_ibm_runtime.fake_provider.executor.run_quantum_program import (
        _round_to_clifford,
        run_quantum_program,
    )
    from qiskit_ibm_runtime.results import QuantumProgramItemResult, QuantumProgramResult
    from samplomatic.quantum_program import CircuitItem, SamplexItem

    from ..reduction import sample_reduced

    if options.layer_noise_model:  # never sent by a client; kept exact by the client's code
        return run_quantum_program(simulator, program, options)
    seed = options.seed_simulator
    sampler = AerSamplerV2.from_backend(
        simulator, seed=seed, options={"run_options": dict(run_options or {})}
    )
    rng = np.random.default_rng(seed)
    items = []
    for item, reduction in zip(program.items, reductions, strict=True):
        circuit = item.circuit
        samplex_data: dict[str, Any] = {}
        if isinstance(item, CircuitItem):
            values = item.circuit_arguments
        elif isinstance(item, SamplexItem):
            samplex_data = broadcast_sample(item.samplex, item.samplex_arguments, item.shape, rng)
            values = samplex_data.pop("parameter_values")
        else:
            raise TypeError(f"Unsupported QuantumProgramItem type: {type(item)}")
        bindings = None
        if values is not None:
            bindings = BindingsArray({tuple(circuit.parameters): values})
            for key, value in bindings._data.items():
                bindings._data[key] = _round_to_clifford(value, options.angle_decimals)
        if reduction is None:
            result = sampler.run([SamplerPub(circuit, bindings, program.shots)]).result()[0]
            data = {k: v.to_bool_array(order="little") for k, v in dict(result.data).items()}
            metadata = result.metadata
        else:
            data = sample_reduced(sampler, circuit, reduction, bindings, program.shots)
            metadata = {"shots": program.shots, "circuit_metadata": circuit.metadata}
        items.append(QuantumProgramItemResult(result={**samplex_data, **data}, metadata=metadata))
    result = QuantumProgramResult(
        data=items, metadata=None, passthrough_data=program.passthrough_data
    )
    result._semantic_role = program._semantic_role
    return result


def planned_circuits(program: QuantumProgram, reductions: list[Any]) -> list[Any]:
    """The circuits as they run: each item's, or the parts of a split one."""
    from ..reduction import part_circuit

    circuits = []
    for item, reduction in zip(program.items, reductions, strict=True):
        if reduction is None:
            circuits.append(item.circuit)
        else:
            circuits.extend(part_circuit(item.circuit, qubits) for qubits in reduction.parts)
    return circuits

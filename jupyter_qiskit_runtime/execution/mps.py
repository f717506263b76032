"""The memory of Aer's matrix product state simulation: bounded from the circuit, or measured.

``mps_memory_estimate`` bounds the bond dimensions from the circuit alone (see its docstring).
For a circuit routed on a device (a GHZ chain on heavy-hex, with Aer moving distant qubits next
to each other) that bound reaches the cap of ``2**(n/2)`` although the state never holds more
than a bond of 2. So, when that bound is over the budget of a noisy job, the planner calls
``probe_mps``: the circuit runs once without noise on Aer's matrix product state method, with its
bond dimension capped at ``PROBE_MAX_BOND`` and Aer's log of the bond dimensions after each
instruction, and the largest state it held is taken. A noisy shot is the same circuit with error
instructions sampled into it: local operators on the qubits of a gate, which can raise a bond by
a factor (4 at most for a two-qubit error, usually far less), so the noisy estimate multiplies
every bond by ``NOISE_BOND_FACTOR``. The worker's resident-memory guard still stops a job that
passes the limit.

Only worker processes import this module (it imports Qiskit and, to probe, Aer).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from qiskit.circuit import ControlFlowOp, Gate, Instruction, QuantumCircuit

from .clifford import IGNORED_OPS, gate_matrix

__all__ = [
    "AMPLITUDE_BYTES",
    "MPS_OVERHEAD",
    "NOISE_BOND_FACTOR",
    "PROBE_MAX_BOND",
    "MpsProbe",
    "mps_memory_estimate",
    "probe_mps",
]

#: Bytes of one double-precision complex amplitude.
AMPLITUDE_BYTES = 16
#: Factor on the sum of the MPS tensors, for the SVD of two-site tensors and other temporaries.
MPS_OVERHEAD = 4
#: The largest bond dimension the probe allows; a circuit that reaches it is taken as too
#: entangled for a noisy matrix product state simulation, which runs shot by shot at that cost.
PROBE_MAX_BOND = 64
#: Factor on each measured bond dimension for a noisy shot's state.
NOISE_BOND_FACTOR = 2

#: Two-qubit gates of operator-Schmidt rank at most 2 for every angle (controlled single-qubit
#: gates, exponentials of one Pauli product).
_RANK_2 = frozenset(
    {"cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cs", "csdg", "csx", "cu", "cu1", "cu3"}
    | {"ecr", "rzz", "rxx", "ryy", "rzx"}
)


@lru_cache(maxsize=1024)
def _numeric_rank(matrix_bytes: bytes) -> int:
    tensor = np.frombuffer(matrix_bytes, dtype=complex).reshape(2, 2, 2, 2)  # out1 out0 in1 in0
    values = np.linalg.svd(tensor.transpose(1, 3, 0, 2).reshape(4, 4), compute_uv=False)
    return max(1, int(np.sum(values > 1e-10 * values[0])))


def _schmidt_rank(op: Instruction) -> int:
    """Operator-Schmidt rank of a two-qubit gate across its two qubits (4 when unknown)."""
    if op.name in _RANK_2:
        return 2
    matrix = gate_matrix(op) if isinstance(op, Gate) and not op.is_parameterized() else None
    return 4 if matrix is None else _numeric_rank(np.ascontiguousarray(matrix).tobytes())


def _only_local(op: Instruction) -> bool:
    if isinstance(op, ControlFlowOp):
        return all(_only_local(i.operation) for b in op.blocks for i in b.data)
    return op.num_qubits <= 1 or op.name in IGNORED_OPS


def mps_memory_estimate(circuit: QuantumCircuit, active: Sequence[int] | None = None) -> int:
    """Estimated peak bytes of Aer's matrix product state simulation of a circuit.

    Follows Aer's qubit moves (the higher qubit of a two-qubit gate swapped next to the lower one,
    sorting back at measurement) and bounds the bond dimension across each cut: a gate of
    operator-Schmidt rank r (2 for controlled-Paulis, ecr, rzz and the like; computed from the
    matrix otherwise; 4 for swap) multiplies it by at most r, moving one qubit across it changes
    it by at most a factor 2 (so it is at most twice either neighbouring bond), and it never
    exceeds ``2**min(left, right)``. Gates of three or more qubits, and control flow holding
    multi-qubit gates, make it that cap everywhere. Memory is ``MPS_OVERHEAD`` times the peak of
    the sum over sites of ``2 * chi_left * chi_right * 16`` bytes. Noise is assumed local.
    """
    if active is None:
        from .methods import active_qubits

        active = active_qubits(circuit)
    active = list(active)
    n = len(active)
    if n < 2:
        return MPS_OVERHEAD * 2 * AMPLITUDE_BYTES * max(n, 1)
    logical = {circuit.qubits[q]: i for i, q in enumerate(active)}
    order, where = list(range(n)), list(range(n))
    cap = [2 ** min(p + 1, n - p - 1) for p in range(n - 1)]
    chi = [1] * (n - 1)

    def size(p: int) -> int:  # complex entries of the tensor at position p
        return 2 * (chi[p - 1] if p else 1) * (chi[p] if p < n - 1 else 1)

    total = peak = sum(size(p) for p in range(n))

    def set_bond(p: int, value: int) -> None:
        nonlocal total, peak
        total -= size(p) + size(p + 1)
        chi[p] = value
        total += size(p) + size(p + 1)
        peak = max(peak, total)

    def apply(p: int, rank: int) -> None:  # a gate of that rank on positions p, p+1
        left = chi[p - 1] if p else 1
        right = chi[p + 1] if p < n - 2 else 1
        set_bond(p, min(chi[p] * rank, 2 * left, 2 * right, cap[p]))

    def move(src: int, dst: int) -> None:
        step = -1 if src > dst else 1
        while src != dst:
            p = min(src, src + step)
            apply(p, 4)
            order[p], order[p + 1] = order[p + 1], order[p]
            where[order[p]], where[order[p + 1]] = p, p + 1
            src += step

    for inst in circuit.data:
        op = inst.operation
        qubits = [logical[q] for q in inst.qubits if q in logical]
        if op.name in IGNORED_OPS or len(qubits) < 1:
            continue
        if op.name in ("measure", "reset"):
            for i in range(n):
                move(where[i], i)
        elif isinstance(op, ControlFlowOp) or len(qubits) > 2:
            if not _only_local(op):
                for p in range(n - 1):
                    set_bond(p, cap[p])
        elif len(qubits) == 2:
            low, high = sorted(where[q] for q in qubits)
            move(high, low + 1)
            apply(low, _schmidt_rank(op))
    return MPS_OVERHEAD * AMPLITUDE_BYTES * peak


_BONDS = re.compile(r"BD=\[([0-9 ]*)\]")


@dataclass(frozen=True)
class MpsProbe:
    """What one noise-free shot on Aer's matrix product state method showed."""

    #: The largest bond dimension reached (``PROBE_MAX_BOND`` when the cap was reached).
    max_bond: int
    #: Whether the cap was reached (the state was truncated: the true bond is larger).
    capped: bool
    #: Estimated peak bytes of one noisy shot's state (``NOISE_BOND_FACTOR`` on every bond,
    #: 16 bytes an entry, two entries per site and bond pair, the planner's overhead factor).
    noisy_bytes: int
    #: Seconds the noise-free shot took: a noisy shot costs about as much.
    seconds: float


def probe_mps(circuit: QuantumCircuit, overhead: int = 4) -> MpsProbe:
    """Run ``circuit`` once, noise-free, on Aer's matrix product state method with the bond
    dimension capped at ``PROBE_MAX_BOND``, and read the bond dimensions from Aer's log."""
    from qiskit_aer import AerSimulator

    simulator = AerSimulator(
        method="matrix_product_state",
        matrix_product_state_max_bond_dimension=PROBE_MAX_BOND,
        mps_log_data=True,
        max_parallel_threads=1,
    )
    started = time.perf_counter()
    result = simulator.run(circuit, shots=1, seed_simulator=1).result()
    seconds = time.perf_counter() - started
    log = str(result.results[0].metadata.get("MPS_log_data", ""))
    peak_entries, max_bond = 0, 1
    for match in _BONDS.finditer(log):
        bonds = [int(b) * NOISE_BOND_FACTOR for b in match.group(1).split()]
        max_bond = max([max_bond, *(b // NOISE_BOND_FACTOR for b in bonds)])
        edges = [1, *bonds, 1]
        peak_entries = max(peak_entries, sum(2 * a * b for a, b in itertools.pairwise(edges)))
    if not peak_entries:  # no two-qubit gate: a product state
        peak_entries = 2 * max(circuit.num_qubits, 1)
    return MpsProbe(
        max_bond=max_bond,
        capped=max_bond >= PROBE_MAX_BOND,
        noisy_bytes=overhead * 16 * peak_entries,
        seconds=seconds,
    )

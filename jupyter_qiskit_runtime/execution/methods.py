"""Choosing Aer's simulation method for a job, and refusing before anything big is allocated.

Runs in worker processes only (it imports Qiskit at module level); no package ``__init__`` imports
it. ``plan_simulation`` looks at a job's circuits and answers a ``SimulationPlan``: the method, the
circuits to run and an estimate of peak memory, or raises ``SimulationRefused``.

Facts about Aer 0.18 this mirrors (read from its source and checked by experiment):

- Truncation (``enable_truncation``, on by default) keeps only the qubits in the backward light cone
  of the measurements: a 3-qubit circuit transpiled for a 127-qubit backend costs 3 qubits.
- The ``automatic`` method, per circuit: ``density_matrix`` when the noise model has quantum errors,
  the circuit has fewer than 30 qubits, ``shots > 2**n`` and measurements can be sampled (no
  mid-circuit measurement, reset or control flow); else ``stabilizer`` when circuit and noise are
  Clifford; else ``statevector``. Memory is not considered, so a noisy 127-qubit circuit fails.
- Shots that cannot be sampled from one final state (noise, mid-circuit measurements) run one by
  one, ``min(threads, shots)`` at a time, each with its own state; ``max_parallel_shots`` caps that.
- The ``matrix_product_state`` method moves the higher qubit of a distant gate next to the lower
  one by swaps and keeps the new order; measurement sorts the qubits back.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from qiskit.circuit import ControlFlowOp, Gate, Instruction, QuantumCircuit
from qiskit.circuit.library import (
    HGate,
    SdgGate,
    SGate,
    SXdgGate,
    SXGate,
    XGate,
    YGate,
    ZGate,
)
from qiskit.exceptions import QiskitError
from qiskit.quantum_info import Clifford, Operator, Pauli
from qiskit.quantum_info.operators.symplectic.clifford_circuits import _append_operation
from qiskit.synthesis import OneQubitEulerDecomposer, TwoQubitWeylDecomposition
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import ConsolidateBlocks

from .errors import SimulationRefused

__all__ = [
    "SimulationPlan",
    "active_qubits",
    "can_sample_measurements",
    "format_bytes",
    "mps_memory_estimate",
    "plan_simulation",
    "snap_clifford",
]

#: Bytes of one double-precision complex amplitude.
AMPLITUDE_BYTES = 16
#: Factor on the sum of the MPS tensors, for the SVD of two-site tensors and other temporaries.
MPS_OVERHEAD = 4
#: Aer's automatic method considers a density matrix only below this many qubits.
DENSITY_MATRIX_MAX_QUBITS = 30

_IGNORED = frozenset({"barrier", "delay"})
_CONTROL_FLOW = frozenset(
    {"if_else", "while_loop", "for_loop", "switch_case", "break_loop", "continue_loop"}
)
#: Two-qubit Clifford gates Aer's stabilizer method applies as they are.
_STABILIZER_2Q = frozenset({"cx", "cy", "cz", "ecr", "swap"})
#: Instructions never multiplied into a single-qubit run.
_KEPT = frozenset({"measure", "reset", "barrier", "delay", "store", "pauli"})
_EULER = OneQubitEulerDecomposer("ZSX")
#: Two-qubit gates of operator-Schmidt rank at most 2 for every angle (controlled single-qubit
#: gates, exponentials of one Pauli product).
_RANK_2 = frozenset(
    {"cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cs", "csdg", "csx", "cu", "cu1", "cu3"}
    | {"ecr", "rzz", "rxx", "ryy", "rzx"}
)
_CLIFFORD_1Q: dict[str, Gate] = {
    "x": XGate(),
    "y": YGate(),
    "z": ZGate(),
    "h": HGate(),
    "s": SGate(),
    "sdg": SdgGate(),
    "sx": SXGate(),
    "sxdg": SXdgGate(),
}


@dataclass(frozen=True)
class SimulationPlan:
    """How to simulate a job's circuits, and how much memory that takes at most.

    Run the circuits with ``run_options`` (``BackendSamplerV2(options={"run_options": ...})``):
    they set the method (unless ``automatic``) and ``max_parallel_shots``, which the memory
    estimate counts on.
    """

    method: str
    active_qubits: int
    memory_bytes: int
    reason: str
    circuits: list[QuantumCircuit]
    #: Per circuit, the method the estimate assumes (Aer's expected choice under ``automatic``).
    expected_methods: tuple[str, ...] = ()
    #: How many shots may hold a state of their own at once (Aer's ``max_parallel_shots``).
    max_parallel_shots: int = 1
    run_options: dict[str, Any] = field(default_factory=dict)


def format_bytes(count: float) -> str:
    """A byte count for people: ``512 MiB``, ``16 GiB``, ``2.7e+30 GiB``."""
    if count < 2**30:
        return f"{count / 2**20:.3g} MiB"
    return f"{count / 2**30:.3g} GiB"


def _index(circuit: QuantumCircuit) -> dict[Any, int]:
    return {bit: i for i, bit in enumerate(circuit.qubits)}


def active_qubits(circuit: QuantumCircuit) -> list[int]:
    """Indices of the qubits Aer simulates after truncation: those of the instructions in the
    backward light cone of the measurements (a control-flow operation counts as a measurement of
    all its qubits). A circuit without measurement (an estimator's) counts every qubit that an
    instruction other than a barrier or delay acts on."""
    index = _index(circuit)
    touched: set[int] = set()
    cone: set[int] = set()
    measured = False
    for inst in reversed(circuit.data):
        if inst.operation.name in _IGNORED:
            continue
        qubits = {index[q] for q in inst.qubits}
        touched |= qubits
        if inst.operation.name == "measure" or isinstance(inst.operation, ControlFlowOp):
            measured = True
            cone |= qubits
        elif qubits & cone:
            cone |= qubits
    return sorted(cone if measured else touched)


def can_sample_measurements(circuit: QuantumCircuit) -> bool:
    """Whether Aer can sample every shot from one final state: no reset, control flow or
    initialize, and nothing acts on a qubit after it is measured."""
    index = _index(circuit)
    measured: set[int] = set()
    for inst in circuit.data:
        name = inst.operation.name
        if name in _IGNORED:
            continue
        if name in ("reset", "initialize", "store") or isinstance(inst.operation, ControlFlowOp):
            return False
        qubits = {index[q] for q in inst.qubits}
        if name == "measure":
            measured |= qubits
        elif qubits & measured:
            return False
    return True


@cache
def _one_qubit_cliffords() -> tuple[np.ndarray, tuple[tuple[str, ...], ...]]:
    """The 24 single-qubit Cliffords up to phase, each with a shortest word of gates equal to it."""
    mats: list[np.ndarray] = [np.eye(2, dtype=complex)]
    words: list[tuple[str, ...]] = [()]
    for mat, word in zip(mats, words, strict=False):  # both grow while iterating: breadth first
        for name, gate in _CLIFFORD_1Q.items():
            new = gate.to_matrix() @ mat
            if all(abs(np.vdot(old, new)) < 2 - 1e-6 for old in mats):
                mats.append(new)
                words.append((*word, name))
    return np.array(mats), tuple(words)


_PAULIS = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])
_Split = tuple[int, tuple[str, ...], float, np.ndarray]  # rank, Clifford word, phase, after it


def _splits(unitary: np.ndarray, fresh: bool, atol: float) -> list[_Split]:
    """Ways to write a single-qubit unitary as a Clifford then a unitary ``g`` (times a phase),
    best first (rank 0): ``g`` the identity or a rotation about one Pauli; then (rank 1) ``g``
    the unitary itself; then (rank 2), when ``fresh``, a rotation about one Pauli on |0> only:
    the Clifford makes a stabilizer state, ``g`` rotates it."""
    mats, words = _one_qubit_cliffords()
    rests = unitary @ mats.conj().transpose(0, 2, 1)  # g = U C^dagger, for each Clifford C
    coefs = np.einsum("aij,kji->ka", _PAULIS, rests) / 2  # g in the Pauli basis
    found = []
    for k in np.argsort(np.sum(np.abs(coefs[:, 1:]) > atol, axis=1), kind="stable"):
        if np.sum(np.abs(coefs[k, 1:]) > atol) > 1:
            break
        big = coefs[k, 0] if abs(coefs[k, 0]) > 0.5 else max(coefs[k, 1:], key=abs)
        found.append((0, words[k], float(np.angle(big)), rests[k] * abs(big) / big))
    found.append((1, (), 0.0, unitary))
    state = unitary[:, 0]
    bloch = np.real([np.vdot(state, p @ state) for p in _PAULIS[1:]])
    for axis in (1, 2, 3) if fresh else ():
        if abs(bloch[axis - 1]) > atol:
            continue
        start = mats[0 if axis < 3 else words.index(("h",))]  # |0> or |+>: on the circle
        s = np.real([np.vdot(start[:, 0], p @ start[:, 0]) for p in _PAULIS[1:]])
        angle = math.atan2(np.cross(s, bloch)[axis - 1], s @ bloch)
        g = math.cos(angle / 2) * _PAULIS[0] - 1j * math.sin(angle / 2) * _PAULIS[axis]
        phase = float(np.angle(np.vdot(g @ start[:, 0], state)))
        found.append((2, words[0 if axis < 3 else 4], phase, g))
    return found


def _axis_angle(rotation: np.ndarray) -> tuple[int, float, float]:
    """(axis, angle, phase) of a rotation about one Pauli (1 X, 2 Y, 3 Z) times a phase."""
    coefs = np.einsum("aij,ji->a", _PAULIS, rotation) / 2
    axis = int(np.argmax(np.abs(coefs[1:]))) + 1
    c0, cp = coefs[0], coefs[axis]  # e^(i phase) (cos(angle/2), -i sin(angle/2))
    phase = c0 / abs(c0) if abs(c0) >= abs(cp) else 1j * cp / abs(cp)
    return axis, 2 * math.atan2((1j * cp / phase).real, (c0 / phase).real), float(np.angle(phase))


def _turn(axis: int, angle: float) -> np.ndarray:
    """The rotation by an angle about a Pauli (1 X, 2 Y, 3 Z)."""
    return math.cos(angle / 2) * _PAULIS[0] - 1j * math.sin(angle / 2) * _PAULIS[axis]


def _matrix(op: Instruction) -> np.ndarray | None:
    try:
        return np.asarray(op.to_matrix(), dtype=complex)
    except Exception:
        try:
            return Operator(op).data
        except Exception:
            return None


def _local_factors(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(a, b) with ``kron(a, b) == matrix`` (a on the second qubit), if the unitary is local."""
    split = matrix.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)
    u, values, vh = np.linalg.svd(split)
    if values[1] > 1e-9:
        return None
    return np.sqrt(values[0]) * u[:, 0].reshape(2, 2), np.sqrt(values[0]) * vh[0].reshape(2, 2)


def _clifford_synthesis(matrix: np.ndarray, atol: float) -> tuple[QuantumCircuit, float] | None:
    """Gates equal to a two-qubit unitary up to a global phase (returned), if it is Clifford."""
    try:
        synth = Clifford.from_matrix(matrix).to_circuit()
    except QiskitError:
        return None
    target = Operator(synth).data
    factor = np.vdot(target, matrix) / 4
    if np.max(np.abs(matrix - factor / abs(factor) * target)) > atol:
        return None
    return synth, float(np.angle(factor)) + float(synth.global_phase)


class _Snapper:
    """Rewrites a circuit into gates Aer's stabilizer method takes, keeping its statistics.

    Transpilers leave non-Clifford gates in Clifford circuits that only cancel as a whole:
    optimization level 3 splits and moves rotations, and resynthesizes Clifford blocks as three
    ecr with non-Clifford single-qubit gates between. So two-qubit blocks are merged into one
    unitary each (``ConsolidateBlocks``) and single-qubit gates between them are carried into
    the next block. A block is split (Weyl decomposition) into local gates, a core that must be
    Clifford, and local gates. When each local gate before the core is a Clifford then a
    unitary that passes through the core as local gates (anything for a swap-like core, a
    rotation about X for a cx-like one, ...), they are emitted and the rest is carried on.
    Otherwise, and at measurements, what is carried is emitted as a Clifford and a rotation
    about one Pauli (or rz and sx), whose angle beyond a multiple of pi/2 is not emitted but
    pulled back to the start: the circuit equals ``C R_m ... R_1`` with ``C`` what was emitted
    and ``R_j`` rotations about Paulis. A new rotation merges with an earlier one about the
    same Pauli when all between commute with it; when their angles sum to a multiple of pi/2,
    that Clifford is emitted. A diagonal one that commutes with all earlier acts on |0...0> as a
    phase; one diagonal on measured qubits when they are measured is moot, and a single-qubit
    one then leaves a Clifford. Anything left makes the circuit not Clifford.
    """

    def __init__(self, circuit: QuantumCircuit, atol: float, at_start: bool) -> None:
        self.circuit, self.atol, self.at_zero, self.n = circuit, atol, at_start, circuit.num_qubits
        self.index = _index(circuit)
        self.out = circuit.copy_empty_like()
        self.phase = float(circuit.global_phase)
        self.fresh = set(range(self.n)) if at_start else set()  # in |0>, nothing done yet
        self.pending: dict[int, np.ndarray] = {}  # single-qubit gates not emitted yet
        self.rotations: list[tuple[Pauli, float]] = []  # about Paulis of phase +1, oldest first
        self.measures: list[tuple[Instruction, list[int], Sequence[Any]]] = []
        self.tableau = Clifford(np.eye(2 * self.n, dtype=bool))

    def emit(self, gate: Instruction, qubits: Sequence[int], clbits: Sequence[Any] = ()) -> None:
        self.out.append(gate, [self.circuit.qubits[q] for q in qubits], clbits, copy=False)
        self.fresh.difference_update(qubits)
        if isinstance(gate, Gate):
            _append_operation(self.tableau, gate, list(qubits))

    def emit_word(self, word: Sequence[str], qubit: int, phase: float = 0.0) -> None:
        self.phase += phase
        for name in word:
            self.emit(_CLIFFORD_1Q[name], [qubit])

    def restart(self) -> None:
        """A new frame: what comes next is pulled back to here, where the state is not known."""
        self.rotations, self.at_zero = [], False
        self.tableau = Clifford(np.eye(2 * self.n, dtype=bool))

    def rotate(self, qubit: int, axis: int, angle: float) -> None:
        """A rotation about a Pauli (1 X, 2 Y, 3 Z) of a qubit, now."""
        turns = round(angle / (math.pi / 2))
        if abs(residual := angle - turns * math.pi / 2) > self.atol:
            x, z = np.zeros((2, self.n), dtype=bool)
            x[qubit], z[qubit] = axis < 3, axis > 1
            pulled = Pauli((z, x)).evolve(self.tableau)  # C^dagger P C
            sign = -1 if pulled.phase == 2 else 1
            pulled.phase = 0
            turns += sign * self.absorb(pulled, sign * residual)
            self.fresh.discard(qubit)
        _, word, phase, _ = _splits(_turn(axis, turns * math.pi / 2), False, self.atol)[0]
        self.emit_word(word, qubit, phase)

    def absorb(self, axis: Pauli, angle: float) -> int:
        """Record a rotation; the quarter turns about it to emit now, when it merges into one."""
        for j in range(len(self.rotations) - 1, -1, -1):
            other, earlier = self.rotations[j]
            if other == axis:
                del self.rotations[j]
                turns = round((earlier + angle) / (math.pi / 2))
                if abs(earlier + angle - turns * math.pi / 2) <= self.atol:
                    return turns
                self.rotations.append((axis, earlier + angle))
                return 0
            if not other.commutes(axis):
                break
        if self.at_zero and not axis.x.any() and all(o.commutes(axis) for o, _ in self.rotations):
            self.phase -= angle / 2  # a diagonal rotation on |0...0>
        else:
            self.rotations.append((axis, angle))
        return 0

    def flush(self, qubit: int) -> None:
        """Emit a qubit's pending gates: a Clifford and a rotation about one Pauli, or rz, sx."""
        unitary = self.pending.pop(qubit, None)
        if unitary is None:
            return
        rank, word, phase, rest = _splits(unitary, False, self.atol)[0]
        if rank == 0:
            axis, angle, more = _axis_angle(rest)
            self.emit_word(word, qubit, phase + more)
            self.rotate(qubit, axis, angle)
            return
        euler = _EULER(unitary)
        self.phase += float(euler.global_phase)
        for inst in euler.data:
            if inst.operation.name == "rz":
                self.rotate(qubit, 3, float(inst.operation.params[0]))
            else:
                self.emit(inst.operation, [qubit])

    def settle(self, qubits: set[int], reset: bool = False) -> bool:
        """Close a measurement (or reset) of these qubits: drop the rotations it makes moot,
        emit the Clifford part of single-qubit ones left on them, then the measurements; whether
        nothing else was left. Then a new frame."""
        trailing: dict[int, np.ndarray] = {}
        kept: list[Pauli] = []
        for axis, angle in reversed(self.rotations):  # newest first
            now = axis.evolve(self.tableau, frame="s")
            support = np.flatnonzero(now.x | now.z).tolist()
            moot = set(support) <= qubits and (reset or not now.x.any())
            if moot and all(axis.commutes(other) for other in kept):
                continue
            kept.append(axis)
            if len(support) != 1 or support[0] not in qubits:
                return False
            single = now.delete([q for q in range(self.n) if q != support[0]]).to_matrix()
            turn = math.cos(angle / 2) * np.eye(2) - 1j * math.sin(angle / 2) * single
            trailing[support[0]] = trailing.get(support[0], np.eye(2)) @ turn
        for qubit, unitary in trailing.items():  # a Clifford, then a diagonal: moot
            splits = _splits(unitary, False, self.atol)
            diagonal = [s for s in splits if np.allclose(s[3][[0, 1], [1, 0]], 0, atol=self.atol)]
            if not diagonal:
                return False
            self.emit_word(diagonal[0][1], qubit)
        for op, where, clbits in self.measures:
            self.emit(op, where, clbits)
        self.measures = []
        self.restart()
        return True

    def block(self, matrix: np.ndarray, qubits: list[int]) -> bool:
        """A two-qubit unitary; whether its core is Clifford."""
        pending = [self.pending.pop(q, np.eye(2)) for q in qubits]
        u, _, vh = np.linalg.svd(matrix @ np.kron(pending[1], pending[0]))
        matrix = u @ vh  # the nearest unitary: the decomposition needs one to 1e-13
        try:
            weyl = TwoQubitWeylDecomposition(matrix, fidelity=None)
        except QiskitError:
            return False
        left, right = np.kron(weyl.K1l, weyl.K1r), np.kron(weyl.K2l, weyl.K2r)
        core_matrix = left.conj().T @ matrix @ right.conj().T
        core = _clifford_synthesis(core_matrix, self.atol)
        if core is None:
            return False
        before = (weyl.K2r, weyl.K2l)
        sides = [
            _splits(k, q in self.fresh, self.atol) for k, q in zip(before, qubits, strict=True)
        ]
        for first, second in sorted(itertools.product(*sides), key=lambda p: p[0][0] + p[1][0]):
            moved = core_matrix @ np.kron(second[3], first[3]) @ core_matrix.conj().T
            if (carried := _local_factors(left @ moved)) is not None:
                self.emit_word(first[1], qubits[0], first[2])
                self.emit_word(second[1], qubits[1], second[2])
                break
        else:
            for qubit, local in zip(qubits, before, strict=True):
                self.pending[qubit] = local
                self.flush(qubit)
            carried = (weyl.K1l, weyl.K1r)
        self.phase += core[1]
        for gate in core[0].data:
            self.emit(gate.operation, [qubits[core[0].find_bit(q).index] for q in gate.qubits])
        self.pending[qubits[1]], self.pending[qubits[0]] = carried
        return True

    def run(self) -> str:
        """Snap every instruction into ``out``; why not, if the circuit is not Clifford."""
        for inst in self.circuit.data:
            op, name = inst.operation, inst.operation.name
            qubits = [self.index[q] for q in inst.qubits]
            measured = {q for _, where, _ in self.measures for q in where}
            closes = name not in _IGNORED and (measured & set(qubits) or len(qubits) > 1)
            if measured and name != "measure" and closes and not self.settle(measured):
                return "a rotation before a measurement is not"
            matrix = _matrix(op) if isinstance(op, Gate) and name not in _KEPT else None
            if matrix is not None and len(qubits) == 1:
                self.pending[qubits[0]] = matrix @ self.pending.get(qubits[0], np.eye(2))
            elif matrix is not None and len(qubits) == 2:
                if not self.block(matrix, qubits):
                    return f"{name}{tuple(op.params)} on qubits {qubits} is not"
            elif name in _IGNORED or not qubits:
                self.emit(op, qubits, inst.clbits)
            elif name == "measure":
                self.flush(qubits[0])
                self.measures.append((op, qubits, inst.clbits))
            elif name == "reset":
                self.pending.pop(qubits[0], None)
                if not self.settle(set(qubits), reset=True):
                    return "a rotation before a reset is not"
                self.emit(op, qubits, inst.clbits)
                self.fresh.update(qubits)
            elif name in _CONTROL_FLOW or name == "pauli":
                for qubit in list(self.pending) if name != "pauli" else qubits:
                    self.flush(qubit)
                if name == "pauli":
                    self.emit(op, qubits)
                    continue
                if not self.settle(set()):
                    return f"a rotation before {name} is not"
                blocks = []
                for block in op.blocks:
                    snapped, why = _snap(block, self.atol, at_start=False)
                    if snapped is None:
                        return f"in {name}, {why}"
                    blocks.append(snapped)
                self.out.append(op.replace_blocks(blocks), inst.qubits, inst.clbits, copy=False)
                self.fresh.difference_update(qubits)
                self.restart()
            else:
                return f"{name} is not supported by the stabilizer method, so it is not"
        for qubit in list(self.pending):
            self.flush(qubit)
        if not self.settle({q for _, where, _ in self.measures for q in where}):
            return "a rotation left at the end is not"
        self.out.global_phase = self.phase
        return ""


def _snap(
    circuit: QuantumCircuit, atol: float, at_start: bool = True
) -> tuple[QuantumCircuit | None, str]:
    """The snapped circuit, or None and why it is not Clifford (a clause ending in "not")."""
    if circuit.parameters:
        return None, "it has unbound parameters, so it is not"
    merged = PassManager([ConsolidateBlocks(force_consolidate=True)]).run(circuit)
    snapper = _Snapper(merged, atol, at_start)
    why = snapper.run()
    return (None, why) if why else (snapper.out, "")


def snap_clifford(circuit: QuantumCircuit, atol: float = 1e-8) -> QuantumCircuit | None:
    """A copy of a bound circuit that Aer's stabilizer method accepts and that gives the same
    measurement statistics; None if it is not Clifford.

    Angles within ``atol`` of a multiple of pi/2 are made exact (single-qubit gates become words
    of x, y, z, h, s, sdg, sx, sxdg; two-qubit blocks h, s, sdg, cx and swap), and non-Clifford
    gates that transpilers leave in a Clifford circuit, which cancel across it, are removed; see
    ``_Snapper``. Measure, reset, barrier, delay and control flow (with snapped blocks) stay. The
    global phase is kept, except for diagonal gates dropped before a measurement.
    """
    return _snap(circuit, atol)[0]


def _clifford_circuits(
    circuits: Sequence[QuantumCircuit], parameterized: Sequence[bool]
) -> tuple[list[QuantumCircuit] | None, str]:
    snapped = []
    for i, (circuit, has_parameters) in enumerate(zip(circuits, parameterized, strict=True)):
        if has_parameters:
            return None, f"circuit {i} is parameterized"
        result, why = _snap(circuit, 1e-8)
        if result is None:
            return None, f"circuit {i} is not Clifford ({why} Clifford)"
        snapped.append(result)
    return snapped, ""


@cache
def _numeric_rank(name: str, params: tuple[float, ...], matrix_bytes: bytes) -> int:
    tensor = np.frombuffer(matrix_bytes, dtype=complex).reshape(2, 2, 2, 2)  # out1 out0 in1 in0
    split = tensor.transpose(1, 3, 0, 2).reshape(4, 4)
    values = np.linalg.svd(split, compute_uv=False)
    return max(1, int(np.sum(values > 1e-10 * values[0])))


def _schmidt_rank(op: Instruction) -> int:
    """Operator-Schmidt rank of a two-qubit gate across its two qubits (4 when unknown)."""
    if op.name in _RANK_2:
        return 2
    if op.name == "swap" or not isinstance(op, Gate) or op.is_parameterized():
        return 4
    matrix = _matrix(op)
    if matrix is None:
        return 4
    params = tuple(float(p) for p in op.params if isinstance(p, (int, float)))
    return _numeric_rank(op.name, params, np.ascontiguousarray(matrix).tobytes())


def _only_local(op: Instruction) -> bool:
    if isinstance(op, ControlFlowOp):
        return all(_only_local(i.operation) for b in op.blocks for i in b.data)
    return op.num_qubits <= 1 or op.name in _IGNORED


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
    active = active_qubits(circuit) if active is None else list(active)
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
        if op.name in _IGNORED or len(qubits) < 1:
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


def _threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _parallel(
    states: list[int], one_by_one: list[bool], shots: list[int], threads: int, budget: int
) -> tuple[int, int]:
    """Peak memory and Aer's max_parallel_shots for circuits of these state sizes."""
    cap = threads
    if budget > 0:
        for state, serial in zip(states, one_by_one, strict=True):
            if serial:
                cap = min(cap, max(1, budget // max(state, 1)))
    peak = 0
    for state, serial, count in zip(states, one_by_one, shots, strict=True):
        peak = max(peak, state * (min(cap, count) if serial else 1))
    return peak, max(1, cap)


def _stabilizer_bytes(n: int) -> int:
    return 2 * n * (16 * (4 + n) + 16)  # Aer's own estimate of a Clifford tableau


def plan_simulation(
    circuits: Sequence[QuantumCircuit],
    *,
    noisy: bool,
    shots: int | Sequence[int],
    budget_bytes: int,
    parameterized: Sequence[bool] | None = None,
    threads: int | None = None,
) -> SimulationPlan:
    """Choose the Aer method for a job's circuits and estimate its peak memory.

    Noise-free: Clifford circuits (after ``snap_clifford``) use ``stabilizer`` at any width;
    others ``statevector`` when ``16 * 2**n`` bytes fit the budget, else ``matrix_product_state``
    when ``mps_memory_estimate`` does. A circuit flagged in ``parameterized`` (a PUB with parameter
    values) is treated as not Clifford, whatever its values: a simplification. Noisy: ``automatic``,
    as IBM's local testing mode runs it, with memory estimated for the method Aer will choose
    (density matrix or statevector; the estimate assumes non-Clifford noise, true of every fake
    backend but fake_manila and fake_jakarta, where Aer may use the cheaper stabilizer method).
    Shots that Aer runs one by one hold ``min(threads, shots)`` states at once; when that is over
    the budget, ``max_parallel_shots`` is lowered. ``shots`` is one count or one per circuit;
    ``threads`` defaults to Aer's (``OMP_NUM_THREADS`` or the CPUs available).

    Raises ``SimulationRefused``, saying the memory needed, the budget and what to change, when
    nothing fits ``budget_bytes`` (0 or less: no budget, never refused).
    """
    circuits = list(circuits)
    if not circuits:
        raise SimulationRefused("There are no circuits to simulate.")
    counts = [int(shots)] * len(circuits) if isinstance(shots, (int, np.integer)) else list(shots)
    flags = [bool(c.parameters) for c in circuits] if parameterized is None else list(parameterized)
    threads = threads or _threads()
    budget = budget_bytes if budget_bytes > 0 else 0
    widths = [len(active_qubits(c)) for c in circuits]
    n = max(widths)
    samplable = [can_sample_measurements(c) for c in circuits]
    budget_text = format_bytes(budget) if budget else "unlimited"

    def plan(
        method: str,
        states: list[int],
        serial: list[bool],
        expected: list[str],
        reason: str,
        to_run: list[QuantumCircuit],
    ) -> SimulationPlan:
        peak, parallel = _parallel(states, serial, counts, threads, budget)
        options: dict[str, Any] = {"max_parallel_shots": parallel}
        if method != "automatic":
            options["method"] = method
        return SimulationPlan(method, n, peak, reason, to_run, tuple(expected), parallel, options)

    if noisy:
        expected = [
            "density_matrix" if w < DENSITY_MATRIX_MAX_QUBITS and s > 2**w and ok else "statevector"
            for w, s, ok in zip(widths, counts, samplable, strict=True)
        ]
        states = [
            AMPLITUDE_BYTES * (4**w if m == "density_matrix" else 2**w)
            for w, m in zip(widths, expected, strict=True)
        ]
        worst = max(range(len(circuits)), key=lambda i: states[i])
        if budget and states[worst] > budget:
            w = widths[worst]
            hint = (
                f" or at most {2**w} shots (Aer then uses a statevector, "
                f"{format_bytes(AMPLITUDE_BYTES * 2**w)}),"
                if expected[worst] == "density_matrix"
                else ""
            )
            raise SimulationRefused(
                f"A noisy simulation of {w} qubits needs about {format_bytes(states[worst])} "
                f"(Aer's {expected[worst]} method); the budget is {budget_text}. Use the "
                f"backend's @aer_ideal variant (noise-free, and Clifford circuits then use the "
                f"stabilizer method at any width), fewer qubits,{hint} or raise "
                "QiskitRuntimeApp.worker_memory_limit."
            )
        return plan(
            "automatic",
            states,
            [m == "statevector" for m in expected],
            expected,
            f"Noisy simulation of {n} qubits: Aer chooses the method, as IBM's local testing "
            f"mode does ({', '.join(sorted(set(expected)))}).",
            circuits,
        )

    snapped, why = _clifford_circuits(circuits, flags)
    if snapped is not None:
        return plan(
            "stabilizer",
            [_stabilizer_bytes(w) for w in widths],
            [False] * len(circuits),
            ["stabilizer"] * len(circuits),
            f"Every circuit is Clifford, so the stabilizer method simulates its {n} qubits.",
            snapped,
        )
    statevector = AMPLITUDE_BYTES * 2**n
    serial = [not ok for ok in samplable]
    if not budget or statevector <= budget:
        return plan(
            "statevector",
            [AMPLITUDE_BYTES * 2**w for w in widths],
            serial,
            ["statevector"] * len(circuits),
            f"{why[0].upper()}{why[1:]}; a statevector of {n} qubits takes "
            f"{format_bytes(statevector)}, within the budget of {budget_text}.",
            circuits,
        )
    mps = [mps_memory_estimate(c) for c in circuits]
    if max(mps) <= budget:
        return plan(
            "matrix_product_state",
            mps,
            serial,
            ["matrix_product_state"] * len(circuits),
            f"{why[0].upper()}{why[1:]}, and a statevector of {n} qubits would need "
            f"{format_bytes(statevector)}, over the budget of {budget_text}; the matrix "
            f"product state method needs about {format_bytes(max(mps))}.",
            circuits,
        )
    raise SimulationRefused(
        f"This simulation needs about {format_bytes(statevector)} for a statevector of {n} "
        f"qubits (matrix product state estimate: {format_bytes(max(mps))}); the budget is "
        f"{budget_text}. Reduce the number of qubits, or raise "
        "QiskitRuntimeApp.worker_memory_limit."
    )

"""Recognising Clifford circuits that transpilation has disguised, and writing them as Clifford.

A circuit transpiled at a high optimization level carries rotation angles that are multiples of
pi/2 only up to rounding, or non-Clifford angles inside blocks that are Clifford as a whole, so
Aer's stabilizer method refuses it. ``snap_clifford`` merges two-qubit blocks, splits each into
local gates around a core that must be Clifford, carries non-Clifford local parts forward through
the core, treats gates on qubits still in |0> by their effect on |0>, and drops diagonal gates
right before a measurement and anything right before a reset. The result has the circuit's
measured statistics (and, when nothing is dropped, its exact unitary), or is ``None``. Sound but
not complete: anything it cannot place counts as not Clifford. Worker processes only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

import numpy as np
from qiskit.circuit import Gate, Instruction, QuantumCircuit
from qiskit.circuit.library import HGate, SdgGate, SGate, SXdgGate, SXGate, XGate, YGate, ZGate
from qiskit.exceptions import QiskitError
from qiskit.quantum_info import Clifford, Operator
from qiskit.synthesis import TwoQubitWeylDecomposition
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import ConsolidateBlocks

__all__ = [
    "CONTROL_FLOW_OPS",
    "IGNORED_OPS",
    "gate_matrix",
    "qubit_index",
    "snap_cached",
    "snap_clifford",
    "snap_with_reason",
]

IGNORED_OPS = frozenset({"barrier", "delay"})
CONTROL_FLOW_OPS = frozenset(
    {"if_else", "while_loop", "for_loop", "switch_case", "break_loop", "continue_loop"}
)
#: Instructions never multiplied into a single-qubit run.
_KEPT = frozenset({"measure", "reset", "barrier", "delay", "store", "pauli"})
#: The gates that snapped single-qubit Cliffords are written with.
_CLIFFORD_1Q: dict[str, Gate] = {
    gate.name: gate for gate in (XGate(), YGate(), ZGate(), HGate(), SGate(), SdgGate(), SXGate())
} | {"sxdg": SXdgGate()}


def qubit_index(circuit: QuantumCircuit) -> dict[Any, int]:
    """Each qubit of a circuit mapped to its index."""
    return {bit: i for i, bit in enumerate(circuit.qubits)}


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
        first = 0 if axis < 3 else words.index(("h",))  # |0> or |+>: on the circle
        start = mats[first]
        s = np.real([np.vdot(start[:, 0], p @ start[:, 0]) for p in _PAULIS[1:]])
        angle = math.atan2(np.cross(s, bloch)[axis - 1], s @ bloch)
        g = math.cos(angle / 2) * _PAULIS[0] - 1j * math.sin(angle / 2) * _PAULIS[axis]
        phase = float(np.angle(np.vdot(g @ start[:, 0], state)))
        found.append((2, words[first], phase, g))
    return found


def gate_matrix(op: Instruction) -> np.ndarray | None:
    """The unitary of a gate, or None when it has none."""
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


_SYNTHESES: dict[bytes, tuple[QuantumCircuit, np.ndarray]] = {}


def _clifford_synthesis(matrix: np.ndarray, atol: float) -> tuple[QuantumCircuit, float] | None:
    """Gates equal to a two-qubit unitary up to a global phase (returned), if it is Clifford.
    Syntheses are kept by the matrix up to phase: there are 11520 two-qubit Cliffords."""
    big = matrix.flat[int(np.argmax(np.abs(matrix)))]
    key = (np.round(matrix * (abs(big) / big), 6) + 0.0).tobytes()
    if key not in _SYNTHESES:
        try:
            synth = Clifford.from_matrix(matrix).to_circuit()
        except QiskitError:
            return None
        _SYNTHESES[key] = (synth, Operator(synth).data)
    synth, target = _SYNTHESES[key]
    factor = np.vdot(target, matrix) / 4
    if np.max(np.abs(matrix - factor / abs(factor) * target)) > atol:
        return None
    return synth, float(np.angle(factor)) + float(synth.global_phase)


class _Snapper:
    """Rewrites a circuit into gates Aer's stabilizer method takes, keeping its statistics.

    Transpilers leave non-Clifford gates in Clifford circuits that cancel only as a whole:
    optimization level 3 moves rotations between blocks and resynthesizes Clifford blocks as
    three ecr with non-Clifford single-qubit gates between. So two-qubit blocks are merged into
    one unitary each (``ConsolidateBlocks``), and single-qubit gates are carried into the next
    block. A block is split (Weyl decomposition) into local gates, a core that must be Clifford,
    and local gates. Each local gate before the core must be a Clifford then a unitary that
    passes through the core as local gates (anything through a swap-like core, a rotation about
    X through a cx-like one, ...); the Cliffords and the core are emitted, and the rest is carried
    on with the local gates after the core. What is carried must be Clifford at the end, or
    before a measurement up to a diagonal gate (moot). A qubit still in |0> needs all this on
    that input only.
    """

    def __init__(self, circuit: QuantumCircuit, atol: float, at_start: bool) -> None:
        self.circuit = PassManager([ConsolidateBlocks(force_consolidate=True)]).run(circuit)
        self.atol, self.index = atol, qubit_index(self.circuit)
        self.out = circuit.copy_empty_like()  # with its layout, which the merged copy lacks
        self.phase = float(self.circuit.global_phase)
        self.fresh = set(range(circuit.num_qubits)) if at_start else set()  # in |0>, untouched
        self.pending: dict[int, np.ndarray] = {}  # single-qubit gates not emitted yet

    def emit(self, gate: Instruction, qubits: Sequence[int], clbits: Sequence[Any] = ()) -> None:
        self.out.append(gate, [self.circuit.qubits[q] for q in qubits], clbits, copy=False)
        self.fresh.difference_update(qubits)

    def emit_word(self, word: Sequence[str], qubit: int, phase: float) -> None:
        self.phase += phase
        for name in word:
            self.emit(_CLIFFORD_1Q[name], [qubit])

    def flush(self, qubit: int, measured: bool = False) -> bool:
        """Emit a qubit's pending gates, if they are Clifford (up to a diagonal after them, moot
        when a measurement follows)."""
        unitary = self.pending.pop(qubit, None)
        if unitary is None:
            return True
        for _, word, phase, rest in _splits(unitary, qubit in self.fresh, self.atol):
            if abs(rest[0, 1]) + abs(rest[1, 0]) <= self.atol and (
                measured or abs(rest[0, 0] - 1) + abs(rest[1, 1] - 1) <= self.atol
            ):
                self.emit_word(word, qubit, phase)
                return True
        return False

    def block(self, matrix: np.ndarray, qubits: list[int]) -> bool:
        """A two-qubit unitary; whether it splits as said."""
        pending = [self.pending.pop(q, np.eye(2)) for q in qubits]
        u, _, vh = np.linalg.svd(matrix @ np.kron(pending[1], pending[0]))
        matrix = u @ vh  # the nearest unitary: the decomposition needs one to 1e-13
        try:
            weyl = TwoQubitWeylDecomposition(matrix, fidelity=None)
        except QiskitError:
            return False
        left, right = np.kron(weyl.K1l, weyl.K1r), np.kron(weyl.K2l, weyl.K2r)
        core_matrix = left.conj().T @ matrix @ right.conj().T
        if (core := _clifford_synthesis(core_matrix, self.atol)) is None:
            return False
        sides = [
            _splits(k, q in self.fresh, self.atol)
            for k, q in zip((weyl.K2r, weyl.K2l), qubits, strict=True)
        ]
        for first, second in sorted(itertools.product(*sides), key=lambda p: p[0][0] + p[1][0]):
            moved = core_matrix @ np.kron(second[3], first[3]) @ core_matrix.conj().T
            if (carried := _local_factors(left @ moved)) is not None:
                self.emit_word(first[1], qubits[0], first[2])
                self.emit_word(second[1], qubits[1], second[2])
                self.phase += core[1]
                for gate in core[0].data:
                    where = [qubits[core[0].find_bit(q).index] for q in gate.qubits]
                    self.emit(gate.operation, where)
                self.pending[qubits[1]], self.pending[qubits[0]] = carried
                return True
        return False

    def run(self) -> str:
        """Snap every instruction into ``out``; why not, if the circuit is not Clifford."""
        for inst in self.circuit.data:
            op, name = inst.operation, inst.operation.name
            qubits = [self.index[q] for q in inst.qubits]
            matrix = gate_matrix(op) if isinstance(op, Gate) and name not in _KEPT else None
            if matrix is not None and len(qubits) == 1:
                self.pending[qubits[0]] = matrix @ self.pending.get(qubits[0], np.eye(2))
            elif matrix is not None and len(qubits) == 2:
                if not self.block(matrix, qubits):
                    return f"the two-qubit block on qubits {qubits} is not"
            elif name in IGNORED_OPS or not qubits:
                self.emit(op, qubits, inst.clbits)
            elif name == "reset":
                self.pending.pop(qubits[0], None)
                self.emit(op, qubits)
                self.fresh.update(qubits)
            elif name in ("measure", "pauli") or name in CONTROL_FLOW_OPS:
                for qubit in qubits:
                    if not self.flush(qubit, measured=name == "measure"):
                        return f"the gates before {name} on qubit {qubit} are not"
                if name in CONTROL_FLOW_OPS:
                    blocks = [
                        snap_with_reason(block, self.atol, at_start=False) for block in op.blocks
                    ]
                    if why := next((why for snapped, why in blocks if snapped is None), ""):
                        return f"in {name}, {why}"
                    op = op.replace_blocks([snapped for snapped, _ in blocks])
                self.emit(op, qubits, inst.clbits)
            else:
                return f"{name} is not supported by the stabilizer method, so it is not"
        for qubit in list(self.pending):
            if not self.flush(qubit):
                return f"the gates at the end of qubit {qubit} are not"
        self.out.global_phase = self.phase
        return ""


def snap_with_reason(
    circuit: QuantumCircuit, atol: float, at_start: bool = True
) -> tuple[QuantumCircuit | None, str]:
    """The snapped circuit, or None and why it is not Clifford (a clause ending in "not")."""
    if circuit.parameters:
        return None, "it has unbound parameters, so it is not"
    try:
        snapper = _Snapper(circuit, atol, at_start)
        why = snapper.run()
    except Exception as exc:  # a gate the analysis cannot take: treated as not Clifford
        return None, f"{type(exc).__name__}: {exc}; it is taken as not"
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
    return snap_with_reason(circuit, atol)[0]


class _Keyed:
    """A circuit that hashes and compares by its instructions (``_fingerprint``)."""

    def __init__(self, circuit: QuantumCircuit, key: tuple[Any, ...]) -> None:
        self.circuit, self.key = circuit, key

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and self.key == other.key


def _fingerprint(circuit: QuantumCircuit) -> tuple[Any, ...] | None:
    """What the snapping of a circuit depends on: its registers, global phase and instructions
    (names, numeric parameters, qubit and clbit indices); ``None`` when an instruction has a
    parameter that is not a number (control flow's blocks, an expression)."""
    qubits = qubit_index(circuit)
    clbits = {bit: i for i, bit in enumerate(circuit.clbits)}
    items: list[Any] = []
    for inst in circuit.data:
        op = inst.operation
        if not all(isinstance(p, (int, float, complex, np.number)) for p in op.params):
            return None
        items.append(
            (
                op.name,
                tuple(op.params),
                tuple(qubits[q] for q in inst.qubits),
                tuple(clbits[c] for c in inst.clbits),
            )
        )
    if not isinstance(circuit.global_phase, (int, float)):
        return None
    registers = tuple((r.name, r.size) for r in circuit.cregs)
    return (circuit.num_qubits, circuit.num_clbits, registers, circuit.global_phase, tuple(items))


@lru_cache(maxsize=256)
def _snap_keyed(keyed: _Keyed) -> tuple[QuantumCircuit | None, str]:
    return snap_with_reason(keyed.circuit, 1e-8)


def snap_cached(circuit: QuantumCircuit) -> tuple[QuantumCircuit | None, str]:
    """``snap_with_reason`` at 1e-8, remembered by fingerprint: a warm worker snaps the circuit
    of a repeated job (a parameter scan, a loop of small jobs) once, and gives a copy with the
    job's own name and metadata."""
    key = _fingerprint(circuit)
    if key is None:
        return snap_with_reason(circuit, 1e-8)
    snapped, why = _snap_keyed(_Keyed(circuit, key))
    if snapped is None:
        return None, why
    copied = snapped.copy()
    copied.name, copied.metadata = circuit.name, circuit.metadata
    return copied, why

"""Choosing Aer's simulation method for a job, and refusing it before anything big is allocated.

Only worker processes import this module (it imports Qiskit); no package ``__init__`` does.
``plan_simulation`` answers a ``SimulationPlan`` (method, circuits to run, peak memory estimate)
or raises ``SimulationRefused``. What it mirrors of Aer 0.18 (read in its source, checked by
experiment, see tests/test_methods.py):

- Truncation (``enable_truncation``, on by default) keeps only the qubits in the backward light
  cone of the measurements: a 3-qubit circuit transpiled for a 127-qubit backend costs 3 qubits.
- The ``automatic`` method, per circuit: ``density_matrix`` when the noise model has quantum
  errors, the circuit has fewer than 30 qubits, ``shots > 2**n`` and its measurements can be
  sampled at the end; else ``stabilizer`` when circuit and noise are Clifford; else
  ``statevector``. Memory plays no part: a noisy 127-qubit circuit fails.
- Shots that cannot be sampled from one final state (noise, mid-circuit measurement, reset) run
  ``min(threads, shots)`` at a time, each with a state of its own; ``max_parallel_shots`` caps it.
- The stabilizer method takes rz, sx and the like only at angles that are multiples of pi/2, and
  transpiled Clifford circuits hold others (``snap_clifford``).
- The matrix product state method swaps the higher qubit of a distant gate next to the lower one
  and keeps that order (``mps_memory_estimate``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from qiskit.circuit import ControlFlowOp, Gate, Instruction, QuantumCircuit

from .clifford import IGNORED_OPS, gate_matrix, qubit_index, snap_with_reason
from .errors import SimulationRefused

__all__ = [
    "SimulationPlan",
    "active_qubits",
    "can_sample_measurements",
    "format_bytes",
    "mps_memory_estimate",
    "plan_simulation",
]

#: Bytes of one double-precision complex amplitude.
AMPLITUDE_BYTES = 16
#: Factor on the sum of the MPS tensors, for the SVD of two-site tensors and other temporaries.
MPS_OVERHEAD = 4
#: Aer's automatic method considers a density matrix only below this many qubits.
DENSITY_MATRIX_MAX_QUBITS = 30

#: Two-qubit gates of operator-Schmidt rank at most 2 for every angle (controlled single-qubit
#: gates, exponentials of one Pauli product).
_RANK_2 = frozenset(
    {"cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cs", "csdg", "csx", "cu", "cu1", "cu3"}
    | {"ecr", "rzz", "rxx", "ryy", "rzx"}
)


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
    """A byte count for people: ``128 bytes``, ``512 MiB``, ``16 GiB``, ``2.7e+30 GiB``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.0f} bytes"


def active_qubits(circuit: QuantumCircuit) -> list[int]:
    """Indices of the qubits Aer simulates after truncation: those of the instructions in the
    backward light cone of the measurements (a control-flow operation counts as a measurement of
    all its qubits). A circuit without measurement (an estimator's) counts every qubit that an
    instruction other than a barrier or delay acts on."""
    index = qubit_index(circuit)
    touched: set[int] = set()
    cone: set[int] = set()
    measured = False
    for inst in reversed(circuit.data):
        if inst.operation.name in IGNORED_OPS:
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
    """Whether Aer's circuit can sample its measurements at the end (``can_sample``): no control
    flow or initialize, and nothing acts on a qubit once it is measured. Resets are allowed here,
    but the statevector method still runs a circuit holding one shot by shot."""
    index = qubit_index(circuit)
    measured: set[int] = set()
    for inst in circuit.data:
        name = inst.operation.name
        if name in ("initialize", "store") or isinstance(inst.operation, ControlFlowOp):
            return False
        qubits = {index[q] for q in inst.qubits}
        if name == "measure":
            measured |= qubits
        elif name not in IGNORED_OPS and qubits & measured:
            return False
    return True


def _clifford_circuits(
    circuits: Sequence[QuantumCircuit], parameterized: Sequence[bool]
) -> tuple[list[QuantumCircuit] | None, str]:
    snapped = []
    for i, (circuit, has_parameters) in enumerate(zip(circuits, parameterized, strict=True)):
        if has_parameters:
            return None, f"circuit {i} is parameterized"
        result, why = snap_with_reason(circuit, 1e-8)
        if result is None:
            return None, f"circuit {i} is not Clifford ({why} Clifford)"
        snapped.append(result)
    return snapped, ""


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
    resets = [any(i.operation.name == "reset" for i in c.data) for c in circuits]
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
    serial = [not ok or reset for ok, reset in zip(samplable, resets, strict=True)]
    if not budget or statevector <= budget:
        return plan(
            "statevector",
            [AMPLITUDE_BYTES * 2**w for w in widths],
            serial,
            ["statevector"] * len(circuits),
            f"{why[0].upper()}{why[1:]}; a statevector of {n} qubits takes "
            f"{format_bytes(statevector)}, "
            + (f"within the budget of {budget_text}." if budget else "and there is no budget."),
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

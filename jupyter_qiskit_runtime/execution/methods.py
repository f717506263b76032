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

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit.circuit import ControlFlowOp, QuantumCircuit

from .clifford import IGNORED_OPS, qubit_index, snap_cached
from .errors import SimulationRefused
from .mps import AMPLITUDE_BYTES, MPS_OVERHEAD, mps_memory_estimate

__all__ = [
    "SimulationPlan",
    "active_qubits",
    "can_sample_measurements",
    "format_bytes",
    "mps_memory_estimate",
    "plan_simulation",
]

#: Aer parallelizes the operations on a state from this many qubits of a vector (its
#: ``statevector_parallel_threshold``; a density matrix of n qubits is a vector of 2n). A job
#: whose every state is smaller, sampling its shots from one state, runs on one thread: threads
#: would only cost it (half the time of a Bell job here, more on a loaded machine).
PARALLEL_STATE_QUBITS = 14
#: Aer's automatic method considers a density matrix only below this many qubits.
DENSITY_MATRIX_MAX_QUBITS = 30


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
        result, why = snap_cached(circuit)
        if result is None:
            return None, f"circuit {i} is not Clifford ({why} Clifford)"
        snapped.append(result)
    return snapped, ""


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


def _vector_qubits(method: str, width: int) -> int:
    """Qubits of the vector Aer's ``method`` holds for ``width`` qubits (a density matrix of n
    qubits is a vector of 2n; other methods count their width)."""
    return 2 * width if method == "density_matrix" else width


def _stabilizer_bytes(n: int) -> int:
    return 2 * n * (16 * (4 + n) + 16)  # Aer's own estimate of a Clifford tableau


def _machine_memory() -> int:
    """Bytes of memory of this machine."""
    import psutil

    return int(psutil.virtual_memory().total)


def _fitting_qubits(budget: int) -> int:
    """The most qubits whose statevector fits ``budget`` bytes."""
    return max(1, int(math.log2(max(budget, AMPLITUDE_BYTES) / AMPLITUDE_BYTES)))


def _raise_limit(needed: int) -> str:
    """The advice to raise the memory limit, only when a limit within this machine's memory
    would be enough."""
    total = _machine_memory()
    if needed > total:
        return ""
    return (
        f", or raise QiskitRuntimeApp.worker_memory_limit to at least {format_bytes(needed)} "
        f"(this machine has {format_bytes(total)})"
    )


def _noisy_over_budget(
    circuits: list[QuantumCircuit],
    width: int,
    state: int,
    method: str,
    budget: int,
    plan: Any,
) -> SimulationPlan:
    """A noisy job whose density matrix or statevector is over the budget: Aer's matrix product
    state method when its estimate fits (noise is sampled shot by shot, each shot on a state of
    its own, so the time grows with the shots), else ``SimulationRefused`` saying what would
    work."""
    from .mps import PROBE_MAX_BOND, probe_mps

    mps = [mps_memory_estimate(c) for c in circuits]
    count = len(circuits)
    measured = ""
    if max(mps) > budget and not any(c.parameters for c in circuits):
        probes = [
            probe_mps(c, MPS_OVERHEAD) if m > budget else None
            for c, m in zip(circuits, mps, strict=True)
        ]
        if not any(p is not None and p.capped for p in probes):
            mps = [
                m if p is None else min(m, p.noisy_bytes) for m, p in zip(mps, probes, strict=True)
            ]
            bond = max(p.max_bond for p in probes if p is not None)
            seconds = max(p.seconds for p in probes if p is not None)
            measured = (
                f" (bond dimension {bond} in a noise-free shot, doubled for the noise; that shot "
                f"took {seconds:.2g} s, and each noisy shot costs about as much)"
            )
        else:
            measured = f" (its bond dimension reaches {PROBE_MAX_BOND} even without noise)"
    if max(mps) <= budget:
        return plan(
            "matrix_product_state",
            mps,
            [True] * count,
            ["matrix_product_state"] * count,
            f"A noisy {method.replace('_', ' ')} of {width} qubits would need "
            f"{format_bytes(state)}, over the budget of {format_bytes(budget)}; the matrix "
            f"product state method needs about {format_bytes(max(mps))} a shot{measured}. It "
            "samples the noise shot by shot, so its time grows with the shots and the "
            "entanglement.",
            circuits,
        )
    hint = (
        f" at most {2**width} shots (Aer then uses a statevector, "
        f"{format_bytes(AMPLITUDE_BYTES * 2**width)});"
        if method == "density_matrix"
        else ""
    )
    raise SimulationRefused(
        f"A noisy simulation of {width} qubits needs about {format_bytes(state)} (Aer's "
        f"{method} method), and about {format_bytes(max(mps))} with the matrix product state "
        f"method{measured}, whose bond dimension grows with the entanglement; the budget is "
        f"{format_bytes(budget)}. What would work: the backend's @aer_ideal variant (noise-free; "
        "Clifford circuits then use the stabilizer method at any width, others matrix product "
        f"states);{hint} at most {_fitting_qubits(budget)} qubits with noise; or a circuit that "
        "entangles less (fewer two-qubit gates across the register)"
        f"{_raise_limit(min(state, max(mps)))}. No noise approximation (a Clifford or Pauli "
        "model of the noise) is applied: it would not be the backend's noise."
    )


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
        if not any(serial) and max(
            _vector_qubits(m, w) for m, w in zip(expected, widths, strict=True)
        ) < (PARALLEL_STATE_QUBITS):
            options["max_parallel_threads"] = 1
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
            return _noisy_over_budget(
                circuits, widths[worst], states[worst], expected[worst], budget, plan
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
        f"{budget_text}. What would work: at most {_fitting_qubits(budget)} qubits (a "
        "statevector within the budget), or a circuit that entangles less (fewer two-qubit "
        "gates across the register, for the matrix product state method)"
        f"{_raise_limit(min(statevector, max(mps)))}."
    )

"""Scale: GHZ circuits of a backend's full width, from submission to result, ideal and noisy.

For GHZ on 5, 27, 127 and 156 qubits transpiled at optimization levels 1 and 3 for fake_manila,
fake_kolkata, fake_sherbrooke and fake_fez, the time from ``SamplerV2.run`` to the result
through ``connect()`` (transpilation excluded: it is the client's, and is reported separately),
the simulation method the server chose, or the error it returned. The baseline is Aer itself in
process: ``AerSimulator(method="automatic")`` via ``BackendSamplerV2`` on the same circuit, or its
error. Each figure is the median of ``--runs`` runs with min and max.

    python benchmarks/scale.py [--runs 3] [--shots 1024] [--output FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import BenchmarkServer

SIZES = {"fake_manila": 5, "fake_kolkata": 27, "fake_sherbrooke": 127, "fake_fez": 156}
TARGET = "127-qubit GHZ at optimization level 3 under 2 s from submission to result on @aer_ideal"


def ghz(n: int) -> Any:
    """A measured GHZ state on ``n`` qubits."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def timed(call: Any, runs: int) -> tuple[list[float], Any, str | None]:
    """Seconds of each run, the last outcome, and the error text if it failed."""
    times, outcome = [], None
    for _ in range(runs):
        start = time.perf_counter()
        try:
            outcome = call()
        except Exception as exc:  # a refusal is a result here
            return [time.perf_counter() - start], None, f"{type(exc).__name__}: {exc}"
        times.append(time.perf_counter() - start)
    return times, outcome, None


def sample(sampler: Any, circuit: Any, shots: int) -> Any:
    """Run one circuit on a sampler and wait for the result."""
    return sampler.run([circuit], shots=shots).result()


def fmt(times: list[float]) -> str:
    """median (min-max) in seconds."""
    return f"{statistics.median(times):.3f} ({min(times):.3f}-{max(times):.3f})"


def short(error: str, limit: int = 140) -> str:
    """The gist of an error, one line, for a table cell."""
    text = " ".join(error.split()).replace("|", "/")
    for marker in ("SimulationRefused: ", "Error: "):
        if marker in text:
            text = text[text.index(marker) + len(marker) :]
            break
    return text if len(text) <= limit else text[: limit - 1] + "..."


def main() -> None:
    """Run the scale scenario and print (and optionally write) a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument("--shots", type=int, default=1024, help="shots per job (default 1024)")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from qiskit.primitives import BackendSamplerV2
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    from jupyter_qiskit_runtime import connect

    provider = FakeProviderForBackendV2()
    rows = [
        "| backend | qubits | level | transpile s | executor | server s, median (min-max) "
        "| method or error | in-process Aer s | ratio |",
        "|---|---:|---:|---:|---|---|---|---|---:|",
    ]
    with BenchmarkServer("scale-token", "--QiskitRuntimeApp.prestart_workers=1") as server:
        service = connect(server.url, server.token)
        for name, n in SIZES.items():
            backend = provider.backend(name)
            for level in (1, 3):
                start = time.perf_counter()
                pm = generate_preset_pass_manager(level, backend=backend, seed_transpiler=1)
                isa = pm.run(ghz(n))
                transpile_s = time.perf_counter() - start
                aer = BackendSamplerV2(backend=AerSimulator(), options={"seed_simulator": 1})
                base, _, base_error = timed(partial(sample, aer, isa, args.shots), 1)
                base_cell = fmt(base) if not base_error else f"fails: {short(base_error, 60)}"
                for executor in ("aer_ideal", "aer"):
                    sampler = SamplerV2(mode=service.backend(f"{name}@{executor}"))
                    sampler.options.simulator.seed_simulator = 1
                    runs = args.runs if executor == "aer_ideal" or n <= 5 else 1
                    times, result, error = timed(partial(sample, sampler, isa, args.shots), runs)
                    if error:
                        cell, what, ratio = fmt(times), f"refused: {short(error)}", ""
                    else:
                        cell, what = fmt(times), result.metadata["simulator"]["method"]
                        median = statistics.median(times)
                        ratio = "" if base_error else f"{median / base[0]:.1f}"
                    base_shown = base_cell if executor == "aer_ideal" else ""
                    rows.append(
                        f"| {name} | {n} | {level} | {transpile_s:.1f} | {executor} | {cell} "
                        f"| {what} | {base_shown} | {ratio} |"
                    )
                    print(rows[-1], flush=True)
    text = "\n".join(rows) + f"\n\nTarget: {TARGET}.\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()

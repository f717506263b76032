"""GPU versus CPU: statevector circuits of 20 to 30 qubits on ``@aer_ideal`` and ``@custatevec``.

Each circuit is a brick of random-angle ``rx``/``rz`` layers and ``cx`` between neighbours (not
Clifford, so both executors simulate a statevector), measured, sampled with ``--shots`` shots.
Two measurements per width and executor, each the median of ``--runs`` runs (min-max):

- ``server``: from ``SamplerV2.run`` to the result through ``connect()`` and a server started
  here with both executors (``pool_size=1``, one warm worker), as a user sees it;
- ``in process``: the executor's own ``backend()`` (the very object a worker builds) driven by
  ``BackendSamplerV2`` in this process: the simulation alone.

The speed-up is CPU time over GPU time of the server measurement. The CPU runs only up to
``--cpu-max-qubits`` (a 30-qubit double-precision statevector is 16 GiB, and the CPU takes
minutes a run). Without a usable GPU the table has the CPU columns and says why.

    python benchmarks/gpu.py [--min 20] [--max 30] [--step 2] [--layers 10] [--shots 1000]
        [--runs 3] [--precision double] [--cpu-max-qubits 28] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.server import BenchmarkServer

CPU, GPU = "aer_ideal", "custatevec"


def brick(width: int, layers: int, seed: int = 11) -> Any:
    """A measured non-Clifford circuit: ``layers`` of random ``rx``, ``rz`` and a ``cx`` brick."""
    import numpy as np
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(width)
    for layer in range(layers):
        for q in range(width):
            qc.rx(float(rng.uniform(0, np.pi)), q)
            qc.rz(float(rng.uniform(0, np.pi)), q)
        for q in range(layer % 2, width - 1, 2):
            qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def sample(primitive: Any, circuit: Any, shots: int) -> Any:
    """Run one circuit on a sampler and wait for the result."""
    return primitive.run([circuit], shots=shots).result()


def timed(call: Callable[[], Any], runs: int) -> tuple[list[float], str | None]:
    """Seconds of each run, or the error of the first failing one."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            call()
        except Exception as exc:  # a refusal is a result here
            return times, " ".join(f"{type(exc).__name__}: {exc}".split())[:100]
        times.append(time.perf_counter() - start)
    return times, None


def cell(times: list[float], error: str | None) -> str:
    """``median (min-max)`` seconds, or the error."""
    if error:
        return f"fails: {error.replace('|', '/')}"
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


def main() -> None:
    """Run the comparison and print (and optionally write) a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, default=20, help="fewest qubits (default 20)")
    parser.add_argument("--max", type=int, default=30, help="most qubits (default 30)")
    parser.add_argument("--step", type=int, default=2, help="qubits between rows (default 2)")
    parser.add_argument("--layers", type=int, default=10, help="circuit layers (default 10)")
    parser.add_argument("--shots", type=int, default=1000, help="shots per job (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument("--precision", choices=("double", "single"), default="double")
    parser.add_argument("--cpu-max-qubits", type=int, default=28, help="widest CPU run (28)")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from qiskit.primitives import BackendSamplerV2
    from qiskit_ibm_runtime import SamplerV2

    from jupyter_qiskit_runtime import connect
    from jupyter_qiskit_runtime.execution.executors.aer import AerExecutor
    from jupyter_qiskit_runtime.execution.executors.custatevec import CuStateVecExecutor
    from jupyter_qiskit_runtime.execution.methods import format_bytes
    from jupyter_qiskit_runtime.execution.options import PrimitiveSettings

    settings = {"noise": False, "precision": args.precision}
    engines: dict[str, Any] = {CPU: AerExecutor(CPU, settings)}
    gpu = CuStateVecExecutor(GPU, {"precision": args.precision})
    why_not = gpu.availability()
    if why_not is None:
        engines[GPU] = gpu
        print(f"GPU: {gpu.describe()}", flush=True)
    else:
        print(f"GPU: unavailable, {why_not}", flush=True)
    executors = json.dumps({name: {"type": name.split("_")[0], **settings} for name in engines})
    rows = [
        "| qubits | statevector | CPU server s | GPU server s | speed-up | CPU in process s "
        "| GPU in process s |",
        "|---:|---:|---|---|---:|---|---|",
    ]
    with BenchmarkServer(
        "gpu-token",
        f"--QiskitRuntimeApp.executors={executors}",
        "--QiskitRuntimeApp.pool_size=1",
        "--QiskitRuntimeApp.prestart_workers=1",
    ) as server:
        service = connect(server.url, server.token)
        for name in engines:  # warm-up: the worker loads each executor and the client its backend
            sample(SamplerV2(mode=service.backend(f"ideal_32q@{name}")), brick(4, 2), 10)
        for width in range(args.min, args.max + 1, args.step):
            circuit = brick(width, args.layers)
            cells: dict[str, str] = {}
            medians: dict[str, float] = {}
            for name, engine in engines.items():
                if name == CPU and width > args.cpu_max_qubits:
                    cells[name] = cells[f"{name} local"] = "not run (--cpu-max-qubits)"
                    continue
                sampler = SamplerV2(mode=service.backend(f"ideal_32q@{name}"))
                times, error = timed(partial(sample, sampler, circuit, args.shots), args.runs)
                cells[name] = cell(times, error)
                if not error:
                    medians[name] = statistics.median(times)
                method = "statevector"
                backend = engine.backend(None, PrimitiveSettings(), method)
                local = BackendSamplerV2(
                    backend=backend, options={"run_options": {"method": method}}
                )
                times, error = timed(partial(sample, local, circuit, args.shots), args.runs)
                cells[f"{name} local"] = cell(times, error)
            ratio = f"{medians[CPU] / medians[GPU]:.1f}" if len(medians) == 2 else ""
            size = format_bytes(2**width * (8 if args.precision == "single" else 16))
            gpu_server, gpu_local = cells.get(GPU, "unavailable"), cells.get(f"{GPU} local", "")
            rows.append(
                f"| {width} | {size} | {cells.get(CPU, '')} | {gpu_server} | {ratio} "
                f"| {cells.get(f'{CPU} local', '')} | {gpu_local or 'unavailable'} |"
            )
            print(rows[-1], flush=True)
    text = "\n".join(rows) + "\n"
    if why_not:
        text += f"\nGPU unavailable: {why_not}\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()

"""The oldest client we support, in its own environment, runs jobs through ``connect()``.

This test installs qiskit-ibm-runtime 0.49.0 (with qiskit 2.x, without Aer) into a fresh virtual
environment from the package index, as a kernel environment older than the server's would be.
The newest supported client (0.51) is the one every other test uses; both run the same script
of everyday calls in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

from .servers import ServerProcess

OLDEST_CLIENT = "0.49.0"
ROOT = Path(__file__).parent.parent

SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    import numpy as np
    import qiskit_ibm_runtime
    from qiskit import QuantumCircuit, transpile
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import Batch, EstimatorV2, SamplerV2, Session
    from jupyter_qiskit_runtime import connect

    service = connect(sys.argv[1], sys.argv[2])
    names = [b.name for b in service.backends()]
    backend = service.backend("fake_manila@aer_ideal")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    isa = transpile(bell, backend=backend, seed_transpiler=1)
    measured = transpile(bell.measure_all(inplace=False), backend=backend, seed_transpiler=1)
    sampled = SamplerV2(mode=backend).run([measured], shots=400)
    counts = sampled.result()[0].data.meas.get_counts()
    zz = SparsePauliOp("ZZ").apply_layout(isa.layout)
    evs = float(EstimatorV2(mode=backend).run([(isa, zz)]).result()[0].data.evs)
    status = str(service.job(sampled.job_id()).status())
    listed = [j.job_id() for j in service.jobs(limit=50)]
    with Session(backend=service.backend("fake_manila@aer")) as session:
        in_session = SamplerV2(mode=session).run([measured], shots=50)
        session_counts = sum(in_session.result()[0].data.meas.get_counts().values())
        session_id = in_session.session_id
    with Batch(backend=backend) as batch:
        jobs = [SamplerV2(mode=batch).run([measured], shots=20) for _ in range(2)]
        batch_counts = [sum(j.result()[0].data.meas.get_counts().values()) for j in jobs]
    executor_bell = None
    if hasattr(qiskit_ibm_runtime, "Executor"):
        from qiskit_ibm_runtime import Executor, QuantumProgram
        program = QuantumProgram(shots=100)
        program.append_circuit_item(measured)
        bits = Executor(mode=backend).run(program).result()[0]["meas"]
        executor_bell = bool(np.array_equal(bits[:, 0], bits[:, 1]))
    device = service.backend("ibmq_manila")
    on_device = SamplerV2(mode=device).run(
        [transpile(bell.measure_all(inplace=False), backend=device, seed_transpiler=1)], shots=50
    )
    on_device.result()
    usage = service.usage()
    print(json.dumps({
        "version": qiskit_ibm_runtime.__version__, "backends": len(names),
        "device": [device.name, on_device.backend().name, device.physical_qubits],
        "least_busy": service.least_busy(min_num_qubits=100).name,
        "remaining_is_int": isinstance(usage["usage_remaining_seconds"], int),
        "counts": counts, "zz": evs, "status": status,
        "listed": sampled.job_id() in listed, "usage": service.usage(),
        "session": [session_counts, bool(session_id)], "batch": batch_counts,
        "executor_bell": executor_bell,
    }, default=str))
    """
)


def _run_script(python: Path, server: ServerProcess, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [python, "-c", SCRIPT, server.url, server.token],
        env={"PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _check_full_use(outcome: dict) -> None:
    assert outcome["backends"] > 100
    assert set(outcome["counts"]) == {"00", "11"} and sum(outcome["counts"].values()) == 400
    assert abs(outcome["zz"] - 1.0) < 0.05
    assert outcome["status"] == "DONE"
    assert outcome["listed"] is True
    assert isinstance(outcome["usage"], dict)
    assert outcome["session"] == [50, True]
    assert outcome["batch"] == [20, 20]
    assert outcome["device"] == ["ibmq_manila", "fake_manila@aer", 5]
    assert outcome["least_busy"].endswith("@aer_ideal")
    assert outcome["remaining_is_int"] is True


def test_newest_supported_client_full_use(server: ServerProcess) -> None:
    """The client this environment has (the newest supported): backends, IBM device names,
    least_busy, jobs, usage, Session, Batch, SamplerV2, EstimatorV2 and Executor through
    ``connect()``, in a fresh process."""
    outcome = _run_script(Path(sys.executable), server, {"PATH": os.environ["PATH"]})
    _check_full_use(outcome)
    assert outcome["executor_bell"] is True


def test_oldest_supported_client_full_use(server: ServerProcess, tmp_path: Path) -> None:
    """With qiskit-ibm-runtime 0.49.0 in the kernel's environment, ``connect()`` gives a service
    on which the same calls work."""
    env_dir = tmp_path / "oldest-client"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", f"qiskit-ibm-runtime=={OLDEST_CLIENT}",
         "qiskit>=2,<3"],
        check=True, timeout=600,
    )  # fmt: skip
    outcome = _run_script(python, server, {"PATH": str(env_dir / "bin")})
    assert outcome["version"] == OLDEST_CLIENT
    _check_full_use(outcome)
    assert outcome["executor_bell"] in (True, None)  # None: that client has no Executor

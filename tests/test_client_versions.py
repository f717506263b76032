"""The oldest client we support, in its own environment, runs jobs through ``connect()``.

This test installs qiskit-ibm-runtime 0.49.0 (with qiskit 2.x, without Aer) into a fresh virtual
environment from the package index, as a kernel environment older than the server's would be.
The newest supported client (0.51) is the one every other test uses.
"""

from __future__ import annotations

import json
import subprocess
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
    import qiskit_ibm_runtime
    from qiskit import QuantumCircuit, transpile
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_ibm_runtime import EstimatorV2, SamplerV2
    from jupyter_qiskit_runtime import connect

    service = connect(sys.argv[1], sys.argv[2])
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
    print(json.dumps({"version": qiskit_ibm_runtime.__version__, "counts": counts,
                      "zz": evs, "status": status}))
    """
)


def test_oldest_supported_client_runs_sampler_and_estimator(
    server: ServerProcess, tmp_path: Path
) -> None:
    """With qiskit-ibm-runtime 0.49.0 in the kernel's environment, ``connect()`` gives a service
    that samples a Bell pair, estimates <ZZ> = 1 and retrieves the job."""
    env_dir = tmp_path / "oldest-client"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", f"qiskit-ibm-runtime=={OLDEST_CLIENT}",
         "qiskit>=2,<3"],
        check=True, timeout=600,
    )  # fmt: skip
    done = subprocess.run(
        [python, "-c", SCRIPT, server.url, server.token],
        env={"PYTHONPATH": str(ROOT), "PATH": str(env_dir / "bin")},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["version"] == OLDEST_CLIENT
    assert set(outcome["counts"]) == {"00", "11"} and sum(outcome["counts"].values()) == 400
    assert abs(outcome["zz"] - 1.0) < 0.05
    assert outcome["status"] == "DONE"

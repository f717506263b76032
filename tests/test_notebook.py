"""The quickstart notebook runs top to bottom in a kernel that a real Jupyter server started.

The server starts the kernel through its REST API and the cells go over the kernel's websocket, as
in JupyterLab; ``%qiskit_runtime`` with no arguments must find that server by itself.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import requests

from .kernels import ServerKernel, errors, stream_text
from .servers import ServerProcess

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"


def run_notebook(server: ServerProcess, path: Path) -> tuple[list[str], list[list[dict]]]:
    """Run every code cell of the notebook at ``path`` in a kernel ``server`` started, each
    without error; the cells' sources and outputs."""
    notebook = nbformat.read(path, as_version=4)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    with ServerKernel(server) as kernel:
        outputs = []
        for source in cells:
            outputs.append(kernel.execute(source))
            assert not errors(outputs[-1]), (source, errors(outputs[-1]))
    return cells, outputs


def test_quickstart_notebook_runs_in_a_kernel_the_server_started(server: ServerProcess) -> None:
    """Every cell runs without error; ``%qiskit_runtime`` prints one line naming the server,
    without its token; the noise-free Bell pair gives only 00 and 11, 1000 shots in all."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert cells[0].splitlines() == ["%load_ext jupyter_qiskit_runtime", "%qiskit_runtime"]
    with ServerKernel(server) as kernel:
        parent = stream_text(kernel.execute("import os; print(os.environ['JPY_PARENT_PID'])"))
        assert int(parent) == server.process.pid  # type: ignore[union-attr]
        outputs = []
        for source in cells:
            outputs.append(kernel.execute(source))
            assert not errors(outputs[-1]), (source, errors(outputs[-1]))

    magic_line = stream_text(outputs[0])
    assert magic_line.count("\n") == 1, magic_line
    assert magic_line.startswith(f"Connected to {server.url} as ")
    assert "206 backends, executors aer, aer_ideal" in magic_line
    assert server.token not in magic_line
    assert "206 backends" in stream_text(outputs[1])
    sampled = "SamplerV2(mode=backend)"
    (bell,) = [o for o, src in zip(outputs, cells, strict=True) if sampled in src]
    counts = ast.literal_eval(stream_text(bell).strip().splitlines()[-1])
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000


VQE_NOTEBOOK = NOTEBOOK.parent / "vqe_h2.ipynb"


def test_vqe_notebook_reaches_the_ground_state_energy_in_a_session(server: ServerProcess) -> None:
    """Every cell of the VQE tutorial runs; its estimator jobs run in one session on the server;
    the plot is drawn; the energy it finds is within 10 mHa of the exact -1.857275 Ha."""
    cells, outputs = run_notebook(server, VQE_NOTEBOOK)
    assert cells[0].splitlines()[0] == "%load_ext jupyter_qiskit_runtime"
    text = "\n".join(stream_text(o) for o in outputs)
    assert "exact ground-state energy: -1.857275 Ha" in text
    match = re.search(r"session (\S+): (\d+) estimator jobs", text)
    assert match and 20 <= int(match.group(2)) <= 60, text
    session = requests.get(
        f"{server.api}/sessions/{match.group(1)}", headers=server.headers(), timeout=30
    ).json()
    assert session["mode"] == "dedicated", session
    plots = [o for out in outputs for o in out if "image/png" in o.get("data", {})]
    assert len(plots) == 1
    vqe = float(re.search(r"VQE energy: +(-?\d+\.\d+) Ha", text).group(1))  # type: ignore[union-attr]
    assert abs(vqe - -1.857275030202378) < 0.010, text


IBM_NOTEBOOK = NOTEBOOK.parent / "ibm_patterns.ipynb"


def test_ibm_patterns_notebook_runs_as_written_for_ibm_hardware(server: ServerProcess) -> None:
    """Every cell runs: least_busy with IBM's filters picks a noise-free backend of at least
    100 qubits, where all 1000 shots of a 100-qubit GHZ state agree; a device name runs on its
    virtual backend; mthree's readout mitigation brings the noisy GHZ populations closer to 1."""
    cells, outputs = run_notebook(server, IBM_NOTEBOOK)
    assert cells[0].splitlines() == ["%load_ext jupyter_qiskit_runtime", "%qiskit_runtime"]
    text = "\n".join(stream_text(o) for o in outputs)
    chosen = re.search(r"(\S+): (\d+) qubits, \d+ pending jobs", text)
    assert chosen and chosen.group(1).endswith("@aer_ideal") and int(chosen.group(2)) >= 100
    assert "1000 of 1000 shots are all zeros or all ones" in text
    assert "ibm_kingston 156 qubits" in text
    assert "ran on fake_manila@aer" in text
    found = re.search(r"raw (\d\.\d+), mitigated (\d\.\d+)", text)
    assert found, text
    raw, mitigated = float(found.group(1)), float(found.group(2))
    assert raw < mitigated and abs(mitigated - 1) < abs(raw - 1)

"""The quickstart notebook runs top to bottom in a kernel that a real Jupyter server started.

The server starts the kernel through its REST API and the cells go over the kernel's websocket, as
in JupyterLab; ``%qiskit_runtime`` with no arguments must find that server by itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from .kernels import ServerKernel, errors, stream_text
from .servers import ServerProcess

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"


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
    assert "142 backends, executors aer, aer_ideal" in magic_line
    assert server.token not in magic_line
    assert "142 backends" in stream_text(outputs[1])
    sampled = "SamplerV2(mode=backend)"
    (bell,) = [o for o, src in zip(outputs, cells, strict=True) if sampled in src]
    counts = ast.literal_eval(stream_text(bell).strip().splitlines()[-1])
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000

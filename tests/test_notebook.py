"""The quickstart notebook runs top to bottom in a real kernel against a real server."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .servers import ServerProcess

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_runs(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell runs without error; the notebook finds the server, lists its backends and
    prints Bell counts of only 00 and 11 on the noise-free backend."""
    # The kernel finds the server through the server's runtime directory, as in a real session.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(server.workdir / "runtime"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "142 backends" in text
    assert "'00'" in text and "'11'" in text

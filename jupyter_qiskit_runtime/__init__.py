"""jupyter-qiskit-runtime: a local Qiskit Runtime served from inside Jupyter.

Importing this package does not import Qiskit: an idle Jupyter server pays nothing for it.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .kernel.client import connect

__all__ = ["__version__", "connect"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Tell Jupyter Server where the extension app is."""
    from .app import QiskitRuntimeApp

    return [{"module": "jupyter_qiskit_runtime.app", "app": QiskitRuntimeApp}]

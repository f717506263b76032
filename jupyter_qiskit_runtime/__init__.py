"""jupyter-qiskit-runtime: a local Qiskit Runtime served from inside Jupyter.

Importing this package does not import Qiskit or IPython: an idle Jupyter server pays nothing for
it. In a notebook, ``%load_ext jupyter_qiskit_runtime`` adds the ``%qiskit_runtime`` magic.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .kernel.client import connect
from .kernel.discovery import ServerNotFoundError

__all__ = ["ServerNotFoundError", "__version__", "connect", "load_ipython_extension"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Tell Jupyter Server where the extension app is."""
    from .app import QiskitRuntimeApp

    return [{"module": "jupyter_qiskit_runtime.app", "app": QiskitRuntimeApp}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_qiskit_runtime``: register the ``%qiskit_runtime`` magic."""
    from .kernel.magic import QiskitRuntimeMagics

    ipython.register_magics(QiskitRuntimeMagics(ipython))

"""jupyter-qiskit-runtime: a local Qiskit Runtime served from inside Jupyter.

Importing this package does not import Qiskit, IPython or ipywidgets: an idle Jupyter server pays
nothing for it. In a notebook, ``%load_ext jupyter_qiskit_runtime`` adds the ``%qiskit_runtime``
magic, and ``panel(service)`` makes a live panel of the service's jobs.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .kernel.client import connect
from .kernel.discovery import ServerNotFoundError

__all__ = ["ServerNotFoundError", "__version__", "connect", "load_ipython_extension", "panel"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Tell Jupyter Server where the extension app is."""
    from .app import QiskitRuntimeApp

    return [{"module": "jupyter_qiskit_runtime.app", "app": QiskitRuntimeApp}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_qiskit_runtime``: register the ``%qiskit_runtime`` magic."""
    from .kernel.magic import QiskitRuntimeMagics

    ipython.register_magics(QiskitRuntimeMagics(ipython))


def panel(service: Any, **options: Any) -> Any:
    """A live panel of the jobs of ``service``'s user on its server (ipywidgets 8).

    ``service`` is a ``QiskitRuntimeService`` for a Jupyter server, as ``connect()`` returns;
    ``options`` go to ``JobPanel`` (``page_size``, ``poll_seconds``). Display it as the value of
    a cell or with ``display()``; ``close()`` stops its updates. ``%qiskit_runtime`` shows one.
    """
    from .kernel.panel import JobPanel

    return JobPanel(service, **options)

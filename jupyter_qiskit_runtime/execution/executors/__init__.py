"""Executors: the simulation engines behind the backends ``<metadata>@<executor>``.

An executor type is a subclass of ``base.Executor``; ``aer.AerExecutor`` (Qiskit Aer on the CPU)
and ``custatevec.CuStateVecExecutor`` (Qiskit Aer's GPU build with NVIDIA cuStateVec) are this
package's own, registered like any plug-in in the entry-point group
``jupyter_qiskit_runtime.executors`` (``registry.py``). Importing these modules imports no Qiskit.
See docs/executors.md.
"""

from __future__ import annotations

from .base import Capabilities, Executor, ExecutorConfigError, Setting

__all__ = ["Capabilities", "Executor", "ExecutorConfigError", "Setting"]

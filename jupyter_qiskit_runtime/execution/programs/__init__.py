"""The IBM programs this server runs, by id: ``sampler``, ``estimator``, ``executor`` and
``noise-learner``.

``validate_params`` runs in the server (in a thread) at submission, so that undecodable input is a
400 for the client rather than a failed job. ``run_task`` runs inside a worker process and answers
with a ``TaskOutcome``. Each program is a ``Program`` entry of ``PROGRAMS`` (``primitives.py``:
the sampler and the estimator; ``executor_program.py``: the executor; ``noise_learner.py``: the
noise learner); ``runner.py`` holds what they
share. Qiskit is imported when a program runs, never at this package's import time.
"""

from __future__ import annotations

import importlib
import io
import logging
import traceback
import warnings
from collections.abc import Mapping

from ..errors import ParamsError
from ..task import Task, TaskOutcome
from .executor_program import EXECUTOR_PROGRAM
from .noise_learner import NOISE_LEARNER
from .primitives import ESTIMATOR, SAMPLER
from .runner import Program, ProgramRunner

__all__ = [
    "PROGRAMS",
    "ParamsError",
    "Program",
    "ProgramRunner",
    "preload",
    "run_task",
    "validate_params",
]

#: The programs this server runs, by program id.
PROGRAMS: Mapping[str, Program] = {
    p.name: p for p in (SAMPLER, ESTIMATOR, EXECUTOR_PROGRAM, NOISE_LEARNER)
}


def preload() -> None:
    """Import the heavy modules once, so a warm worker's first job pays nothing for them."""
    importlib.import_module("qiskit_aer")
    importlib.import_module("qiskit.primitives")
    importlib.import_module("qiskit_ibm_runtime.fake_provider")


def validate_params(program_id: str, params: str, n_qubits: int) -> None:
    """Raise ``ParamsError`` if the params of a job of ``program_id`` (one of ``PROGRAMS``)
    cannot run on a backend of ``n_qubits`` qubits."""
    PROGRAMS[program_id].validate(params, n_qubits)


def run_task(task: Task, runner: ProgramRunner) -> TaskOutcome:
    """Run a task: its encoded result and metrics, or its error (``TypeName: message``) and
    traceback, with its logs (the job's log lines and the warnings raised while it ran; for a
    failed job, the error with its traceback)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    # A logger of its own, outside logging's registry (which keeps every logger it makes for
    # the life of the process: a warm worker would keep one per job it ever ran).
    log = logging.Logger(f"jupyter_qiskit_runtime.job.{task.job_id}", logging.INFO)
    log.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            encoded, metrics = PROGRAMS[task.program_id].run(task, runner, log)
        for warning in caught:
            log.warning("%s: %s", warning.category.__name__, warning.message)
        return TaskOutcome(ok=True, result=encoded, logs=stream.getvalue(), metrics=metrics)
    except Exception as exc:
        # The traceback goes to the job's logs (read by its owner only) and, through
        # ``TaskOutcome.traceback``, to the server's log; the client's error is ``error``.
        log.error("%s: %s", type(exc).__name__, exc, exc_info=True)
        return TaskOutcome(
            ok=False,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            logs=stream.getvalue(),
        )
    finally:
        log.removeHandler(handler)

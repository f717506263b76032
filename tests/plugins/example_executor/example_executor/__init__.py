"""An example executor plug-in: Qiskit's pure-Python ``BasicSimulator``, noise-free.

Configure it as ``c.QiskitRuntimeApp.executors = {"basic": {"type": "example"}}``; its backends
are then ``fake_manila@basic``, ``ideal_5q@basic`` and so on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from jupyter_qiskit_runtime.execution.executors import Capabilities, Executor, Setting
from jupyter_qiskit_runtime.execution.executors.base import COMMON_SETTINGS


class ExampleExecutor(Executor):
    """Runs every job on ``qiskit.providers.basic_provider.BasicSimulator``."""

    description = "Qiskit BasicSimulator (example plug-in)"
    SETTINGS: ClassVar[Mapping[str, Setting]] = {
        **COMMON_SETTINGS,
        "max_qubits": Setting(int, 12, "Widest circuit it accepts.", minimum=1, maximum=24),
    }

    def capabilities(self) -> Capabilities:
        """Statevector on the CPU, no noise, at most ``max_qubits``."""
        return Capabilities(
            devices=("CPU",),
            methods=("statevector",),
            noise=False,
            max_qubits=self.settings["max_qubits"],
        )

    def plan(
        self,
        circuits: Sequence[Any],
        *,
        noisy: bool,
        shots: int | Sequence[int],
        budget_bytes: int,
        parameterized: Sequence[bool] | None = None,
    ) -> Any:
        """Refuse noise and wide circuits; otherwise the default plan with no Aer run options."""
        from jupyter_qiskit_runtime.execution.errors import SimulationRefused

        if noisy:
            raise SimulationRefused(f"Executor '{self.name}' simulates without noise only.")
        widest = max(circuit.num_qubits for circuit in circuits)
        if widest > self.settings["max_qubits"]:
            raise SimulationRefused(
                f"Executor '{self.name}' runs at most {self.settings['max_qubits']} qubits; "
                f"this job has {widest}."
            )
        plan = super().plan(
            circuits,
            noisy=noisy,
            shots=shots,
            budget_bytes=budget_bytes,
            parameterized=parameterized,
        )
        return replace(
            plan,
            method="statevector",
            circuits=list(circuits),
            run_options={},
            reason=f"BasicSimulator runs the statevector of {widest} qubits (example plug-in).",
        )

    def backend(self, fake_backend: Any, options: Any, method: str) -> Any:
        """A new BasicSimulator (it keeps no state between runs)."""
        from qiskit.providers.basic_provider import BasicSimulator

        return BasicSimulator()

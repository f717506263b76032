"""``aer``: Qiskit Aer on the CPU. The default executors ``aer`` and ``aer_ideal`` are two
instances of this type (``noise`` true and false)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .base import COMMON_SETTINGS, Capabilities, Executor, Setting

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit
    from qiskit.providers import BackendV2

    from ..methods import SimulationPlan
    from ..options import PrimitiveSettings

__all__ = ["AER_METHODS", "AerExecutor"]

#: The methods the planner chooses among for Aer (``automatic`` lets Aer choose, under noise).
AER_METHODS = ("automatic", "stabilizer", "statevector", "matrix_product_state", "density_matrix")


class AerExecutor(Executor):
    """Qiskit Aer's ``AerSimulator`` on the CPU.

    With ``noise`` on and no other setting, a job runs on the fake backend object itself, exactly
    as IBM's local testing mode runs it (the same seed gives the same counts). Without noise it
    runs on an ``AerSimulator`` for the planned method (stabilizer, statevector or matrix
    product states, see ``methods.py``), kept for the worker's next jobs.
    """

    description = "Qiskit Aer on CPU"
    SETTINGS: ClassVar[Mapping[str, Setting]] = {
        **COMMON_SETTINGS,
        "noise": Setting(
            bool,
            True,
            "Apply the fake backend's own noise model, as IBM's local testing mode does; false "
            "simulates without noise (ideal_<n>q backends never have noise).",
        ),
        "precision": Setting(
            str,
            "double",
            "Floating-point precision of the simulation: 'double' or 'single' (half the memory, "
            "about 7 significant digits).",
            choices=("double", "single"),
        ),
        "threads": Setting(
            int,
            0,
            "CPU threads one simulation may use (Aer's max_parallel_threads); 0: Aer's default, "
            "every core available (or OMP_NUM_THREADS).",
            minimum=0,
        ),
    }
    DEFAULT_INSTANCES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "aer": {"noise": True},
        "aer_ideal": {"noise": False},
    }

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self._simulators: dict[str, Any] = {}

    def describe(self) -> str:
        """``Qiskit Aer on CPU with the backend's own noise model``, or ``..., noise-free``, and
        the settings that differ from the defaults."""
        text = self.description + (" with the backend's own noise model" if self.noisy else "")
        extras = [] if self.noisy else ["noise-free"]
        if self.settings.get("precision") == "single":
            extras.append("single precision")
        if threads := self.settings.get("threads"):
            extras.append(f"{threads} thread{'s' if threads > 1 else ''}")
        return ", ".join([text, *extras])

    def capabilities(self) -> Capabilities:
        """CPU, every Aer method the planner uses, noise; memory: the worker's budget."""
        return Capabilities(devices=("CPU",), methods=AER_METHODS, noise=True)

    def simulator_options(self, method: str) -> dict[str, Any]:
        """``AerSimulator`` options from the settings (none at the defaults); ``method`` is the
        planned one, which a subclass may use to choose a device."""
        options: dict[str, Any] = {}
        if self.settings.get("precision") == "single":
            options["precision"] = "single"
        if threads := self.settings.get("threads"):
            options["max_parallel_threads"] = int(threads)
        return options

    def plan(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        noisy: bool,
        shots: int | Sequence[int],
        budget_bytes: int,
        parameterized: Sequence[bool] | None = None,
    ) -> SimulationPlan:
        """``methods.plan_simulation``, counting the configured threads for parallel shots."""
        from ..methods import plan_simulation

        return plan_simulation(
            circuits,
            noisy=noisy,
            shots=shots,
            budget_bytes=budget_bytes,
            parameterized=parameterized,
            threads=int(self.settings.get("threads") or 0) or None,
        )

    def backend(
        self, fake_backend: BackendV2 | None, options: PrimitiveSettings, method: str
    ) -> BackendV2:
        """The fake backend itself (its noise, default settings), an ``AerSimulator`` built from
        it (its noise with these settings, or the client's noise model in its place), or a
        noise-free ``AerSimulator`` for ``method``, kept for later jobs."""
        from qiskit_aer import AerSimulator

        sim_options = self.simulator_options(method)
        noise_model = options.noise_model
        with_backend_noise = self.noisy and fake_backend is not None
        if noise_model is not None:
            if with_backend_noise:
                return AerSimulator.from_backend(
                    fake_backend, noise_model=noise_model, **sim_options
                )
            return AerSimulator(noise_model=noise_model, **sim_options)
        if with_backend_noise:
            if not sim_options:
                return fake_backend
            return AerSimulator.from_backend(fake_backend, **sim_options)
        sim_options = {"method": method, **sim_options}
        key = json.dumps(sim_options, sort_keys=True)
        if key not in self._simulators:
            self._simulators[key] = AerSimulator(**sim_options)
        return self._simulators[key]

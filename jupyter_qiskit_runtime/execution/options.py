"""Runtime options as the simulator applies them.

IBM's local testing mode (``qiskit_ibm_runtime.fake_provider.local_service``) honours
``default_shots``, ``default_precision``, ``simulator.seed_simulator``, ``simulator.noise_model``
and ``execution.meas_type``; we apply those with the same effect. Beyond it:
``simulator.coupling_map`` and ``simulator.basis_gates`` (the simulated device accepts only
circuits that fit them, as a device would), ``execution.meas_type`` ``kerneled`` and
``avg_kerneled`` (IQ points; Aer returns classified bits only, see ``kerneled.py``), and a noise
model for the estimator too. Every other option that is set has no meaning on a simulator; it is
accepted and named in the job's logs, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import ParamsError

#: ``execution.meas_type`` values: classified bits, or IQ points per shot or averaged over shots.
MEAS_TYPES = ("classified", "kerneled", "avg_kerneled")

#: The options each primitive program applies, as dotted paths.
APPLIED_OPTIONS = {
    "sampler": frozenset(
        {
            "default_shots",
            "simulator.seed_simulator",
            "simulator.noise_model",
            "simulator.coupling_map",
            "simulator.basis_gates",
            "execution.meas_type",
        }
    ),
    "estimator": frozenset(
        {
            "default_shots",
            "default_precision",
            "simulator.seed_simulator",
            "simulator.noise_model",
            "simulator.coupling_map",
            "simulator.basis_gates",
        }
    ),
}


def set_options(options: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the options that are set (not None, not an empty list or mapping)."""
    for key, value in options.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not (prefix == "simulator." and key == "noise_model"):
            yield from set_options(value, f"{path}.")
        elif value is not None and not (isinstance(value, list) and not value):
            yield path


@dataclass
class PrimitiveSettings:
    """What a primitive job's options mean for the simulation."""

    shots: int | None = None
    precision: float | None = None
    seed: int | None = None
    noise_model: Any = None
    coupling_map: list[tuple[int, int]] | None = None
    basis_gates: list[str] | None = None
    meas_type: str = "classified"
    #: The ``resilience`` and ``twirling`` options that are set (validated), or ``None``; the
    #: mitigation they ask for is applied by ``programs/legacy_mitigation.py``.
    mitigation: dict[str, Any] | None = None
    #: The job's top-level ``resilience_level`` param as sent (checked where it is applied).
    resilience_level: Any = None
    not_applied: list[str] = field(default_factory=list)

    @property
    def run_options(self) -> dict[str, Any]:
        """Options passed to the Aer backend's ``run`` for each circuit."""
        return {} if self.noise_model is None else {"noise_model": self.noise_model}


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParamsError(f"options.{name} must be a positive integer, not {value!r}.")
    return value


def _noise_model(value: Any) -> Any:
    from qiskit_aer.noise import NoiseModel

    if isinstance(value, NoiseModel):
        return value
    if isinstance(value, dict):
        try:
            return NoiseModel.from_dict(value)
        except Exception as exc:
            raise ParamsError(f"options.simulator.noise_model is not a noise model: {exc}") from exc
    raise ParamsError("options.simulator.noise_model must be a qiskit_aer NoiseModel.")


def _coupling_map(value: Any) -> list[tuple[int, int]]:
    edges = getattr(value, "get_edges", None)
    pairs = list(edges()) if callable(edges) else value
    try:
        return [(int(a), int(b)) for a, b in pairs]
    except (TypeError, ValueError) as exc:
        raise ParamsError(
            "options.simulator.coupling_map must be a list of [control, target] qubit pairs."
        ) from exc


def settings_from_options(program_id: str, options: dict[str, Any]) -> PrimitiveSettings:
    """Map a sampler's or estimator's runtime options; raise ``ParamsError`` on invalid values."""
    if not isinstance(options, dict):
        raise ParamsError("params.options must be a JSON object.")
    settings = PrimitiveSettings()
    if (shots := options.get("default_shots")) is not None:
        settings.shots = _positive_int(shots, "default_shots")
    if program_id == "estimator" and (precision := options.get("default_precision")) is not None:
        if isinstance(precision, bool) or not isinstance(precision, int | float) or precision <= 0:
            raise ParamsError(
                f"options.default_precision must be a positive number, not {precision!r}."
            )
        settings.precision = float(precision)
    simulator = options.get("simulator") or {}
    if not isinstance(simulator, dict):
        raise ParamsError("options.simulator must be a JSON object.")
    if (seed := simulator.get("seed_simulator")) is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ParamsError(f"options.simulator.seed_simulator must be an integer, not {seed!r}.")
        settings.seed = seed
    if simulator.get("noise_model") is not None:
        settings.noise_model = _noise_model(simulator["noise_model"])
    if simulator.get("coupling_map"):
        settings.coupling_map = _coupling_map(simulator["coupling_map"])
    if simulator.get("basis_gates"):
        gates = simulator["basis_gates"]
        if not isinstance(gates, list) or not all(isinstance(g, str) for g in gates):
            raise ParamsError("options.simulator.basis_gates must be a list of gate names.")
        settings.basis_gates = list(gates)
    execution = options.get("execution") or {}
    if program_id == "sampler" and isinstance(execution, dict):
        meas_type = execution.get("meas_type")
        if meas_type is not None:
            if meas_type not in MEAS_TYPES:
                raise ParamsError(
                    f"options.execution.meas_type must be one of {', '.join(MEAS_TYPES)}, "
                    f"not {meas_type!r}."
                )
            settings.meas_type = meas_type
    settings.not_applied = sorted(set(set_options(options)) - APPLIED_OPTIONS[program_id])
    _mitigation_options(program_id, options, settings)
    return settings


#: The option sections that carry error mitigation, for each program.
MITIGATION_SECTIONS = {"sampler": ("twirling",), "estimator": ("resilience", "twirling")}


def _mitigation_options(
    program_id: str, options: dict[str, Any], settings: PrimitiveSettings
) -> None:
    """Keep the mitigation options that are set in ``settings.mitigation``, validated as the
    client's own options model does (``ParamsError`` on an invalid value)."""
    sections = {
        name: options[name] for name in MITIGATION_SECTIONS.get(program_id, ()) if options.get(name)
    }
    if not sections:
        return
    for name, section in sections.items():
        if not isinstance(section, dict):
            raise ParamsError(f"options.{name} must be a JSON object.")
    from .programs.legacy_mitigation import estimator_options, sampler_options

    if program_id == "estimator":
        estimator_options(sections, None, settings)
    else:
        sampler_options(sections, settings)
    settings.mitigation = sections


#: Instructions that every simulated device accepts whatever its basis gates.
ALWAYS_SUPPORTED = frozenset(
    {"measure", "barrier", "reset", "delay", "if_else", "while_loop", "for_loop", "switch_case"}
)


def check_device_fit(circuit: Any, settings: PrimitiveSettings, where: str) -> None:
    """Raise ``ParamsError`` if a circuit uses a gate outside ``basis_gates`` or a two-qubit gate
    on a pair outside ``coupling_map``. Pairs are directed, as in a Qiskit ``CouplingMap`` and the
    target Aer builds from it: ``[0, 1]`` allows ``cx(0, 1)``, not ``cx(1, 0)``."""
    if settings.basis_gates is None and settings.coupling_map is None:
        return
    allowed = set(settings.basis_gates or ()) | ALWAYS_SUPPORTED
    edges = set(settings.coupling_map or ())
    for instruction in circuit.data:
        name = instruction.operation.name
        if settings.basis_gates is not None and name not in allowed:
            raise ParamsError(
                f"{where} uses the gate '{name}', which is not in options.simulator.basis_gates "
                f"({', '.join(settings.basis_gates)}). Transpile the circuit for those gates."
            )
        if settings.coupling_map is not None and len(instruction.qubits) == 2:
            a, b = (circuit.find_bit(q).index for q in instruction.qubits)
            if (a, b) not in edges:
                raise ParamsError(
                    f"{where} applies '{name}' to qubits ({a}, {b}), a pair that is not in "
                    "options.simulator.coupling_map. Transpile the circuit for that coupling map."
                )

"""Where the backends' topology and calibration come from: the fake backends' files, and the
ideal all-to-all simulators; and their answers, serialized once.

The fake backends ship with ``qiskit_ibm_runtime.fake_provider`` as JSON files (a configuration
and calibration properties each). They are read directly and lazily, never by instantiating a
fake backend or a simulator, and without importing Qiskit until a file is first needed.
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Gates offered by the ideal all-to-all simulators: Qiskit standard gates that Aer runs natively.
IDEAL_BASIS_GATES = [
    "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg",
    "rx", "ry", "rz", "p", "u", "cx", "cy", "cz", "ecr", "swap", "ccx",
    "rzz", "measure", "reset", "delay",
]  # fmt: skip

#: Widths of the ideal all-to-all simulator family, named ``ideal_<n>q``.
IDEAL_WIDTHS = (5, 20, 32)

#: How IBM's device names begin (``ibm_kingston``, ``ibmq_manila``, ``ibmqx2``): a fake
#: backend whose configuration names such a device answers to that name too.
DEVICE_NAME_PREFIX = "ibm"


@dataclass(frozen=True)
class Metadata:
    """Where one backend's topology and calibration come from."""

    name: str
    #: ``module:ClassName`` of the fake backend, or ``None`` for an ideal simulator.
    fake_class: str | None
    conf_path: Path | None
    props_path: Path | None
    n_qubits: int
    #: The IBM device the fake backend copies (its configuration's ``backend_name``, such as
    #: ``ibm_kingston``), or ``None``.
    device_name: str | None = None


def fake_backend_metadata() -> list[Metadata]:
    """Every distinct fake backend of ``qiskit_ibm_runtime.fake_provider``, by name."""
    fake_provider = importlib.import_module("qiskit_ibm_runtime.fake_provider")
    base = fake_provider.fake_backend.FakeBackendV2
    found: dict[str, Metadata] = {}
    cls: Any
    for attr, cls in vars(fake_provider).items():
        if not (inspect.isclass(cls) and issubclass(cls, base) and cls is not base):
            continue
        name = str(getattr(cls, "backend_name", ""))
        dirname = getattr(cls, "dirname", None)
        conf_name = getattr(cls, "conf_filename", None)
        if not dirname or not conf_name or name in found:
            continue
        conf_path = Path(dirname) / conf_name
        props_name = getattr(cls, "props_filename", None)
        props_path = Path(dirname) / props_name if props_name else None
        with conf_path.open() as f:
            conf = json.load(f)
        device = str(conf.get("backend_name") or "")
        found[name] = Metadata(
            name=name,
            fake_class=f"{cls.__module__}:{attr}",
            conf_path=conf_path,
            props_path=props_path if props_path and props_path.exists() else None,
            n_qubits=int(conf["n_qubits"]),
            device_name=device if device.startswith(DEVICE_NAME_PREFIX) else None,
        )
    return sorted(found.values(), key=lambda m: m.name)


def ideal_metadata() -> list[Metadata]:
    """The ideal all-to-all simulators, one per width of ``IDEAL_WIDTHS``."""
    return [Metadata(f"ideal_{n}q", None, None, None, n) for n in IDEAL_WIDTHS]


def ideal_configuration(name: str, n_qubits: int) -> dict[str, Any]:
    """The configuration of an ideal all-to-all simulator."""
    return {
        "backend_name": name,
        "backend_version": "1.0.0",
        "n_qubits": n_qubits,
        "basis_gates": list(IDEAL_BASIS_GATES),
        "gates": [],
        "local": True,
        "simulator": True,
        "conditional": True,
        "open_pulse": False,
        "memory": True,
        "max_shots": 1_000_000,
        "max_experiments": 300,
        "coupling_map": None,
        "supported_instructions": [*IDEAL_BASIS_GATES, "if_else", "while_loop", "for_loop"],
        "supported_features": ["qobj", "dynamic_circuits"],
        "meas_levels": [1, 2],
        "description": f"Ideal all-to-all simulator with {n_qubits} qubits",
        "online_date": "2024-01-01T00:00:00Z",
        "processor_type": {"family": "Simulator", "revision": "1"},
    }


def splice(fields: dict[str, Any], body: bytes) -> bytes:
    """The JSON object ``body`` (serialized, without any of ``fields``' keys) with ``fields``
    put first: the per-backend fields of an answer shared by several backends, without
    decoding and encoding the whole answer again."""
    head = json.dumps(fields).encode()
    if body.strip() == b"{}":
        return head
    if not fields:
        return body
    return head[:-1] + b", " + body.lstrip()[1:]


@dataclass(frozen=True)
class Answers:
    """A metadata's configuration and properties, serialized once without the fields that
    name a virtual backend (``backend_name``, ``description``, ``calibration_id``)."""

    #: The configuration (without those fields), and its own ``description``.
    configuration: bytes
    description: str
    #: The calibration properties (without those fields), or ``None`` without calibration.
    properties: bytes | None
    #: When the one calibration was taken (``last_update_date``, UTC), or ``None``.
    calibrated_at: datetime | None


#: The fields a virtual backend's answers set for itself.
OWN_FIELDS = ("backend_name", "description", "calibration_id")

#: Pulse-era configuration fields, left out of the answers: IBM's current devices no longer
#: have them (fake_kingston's file, from 2026, has none), Qiskit 2 has no pulse, and no client
#: code reads them. They were most of the older configurations' bytes, and the client
#: deep-copies every configuration it lists, so ``service.backends()`` is several times faster
#: without them.
PULSE_ERA_FIELDS = (
    "acquisition_latency", "channels", "conditional_latency", "hamiltonian", "meas_lo_range",
    "n_uchannels", "parametric_pulses", "qubit_channel_mapping", "qubit_lo_range", "rep_times",
    "u_channel_lo", "uchannels_enabled",
)  # fmt: skip


def load_answers(meta: Metadata) -> Answers:
    """Read and serialize a metadata's answers (the slow part: done once per metadata)."""
    if meta.conf_path is None:
        conf = ideal_configuration(meta.name, meta.n_qubits)
    else:
        with meta.conf_path.open() as f:
            conf = json.load(f)
    # Aer runs control flow: a backend whose instructions include it runs dynamic circuits,
    # which is what the client's backends(dynamic_circuits=True) looks for.
    features = conf.setdefault("supported_features", [])
    if "if_else" in conf.get("supported_instructions", []) and "dynamic_circuits" not in features:
        features.append("dynamic_circuits")
    description = str(conf.get("description") or meta.name)
    for key in (*OWN_FIELDS, *PULSE_ERA_FIELDS):
        conf.pop(key, None)
    props_text = None
    taken = None
    if meta.props_path is not None:
        with meta.props_path.open() as f:
            props = json.load(f)
        if props.get("last_update_date"):
            stamp = datetime.fromisoformat(str(props["last_update_date"]))
            taken = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)
        for key in OWN_FIELDS:
            props.pop(key, None)
        props_text = json.dumps(props).encode()
    return Answers(json.dumps(conf).encode(), description, props_text, taken)

"""``custatevec``: statevector simulation on an NVIDIA GPU with cuQuantum's cuStateVec, through
Qiskit Aer's GPU build (``AerSimulator(method="statevector", device="GPU",
cuStateVec_enable=True)``). docs/executors.md says why Aer's build rather than cuquantum-python.

The server checks at start, without importing Qiskit, that a GPU is there (``nvidia-smi``) and
that the installed ``qiskit_aer`` is the GPU build (package metadata); a worker checks again that
Aer offers the GPU device before its first GPU job.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, ClassVar

from .aer import AerExecutor
from .base import COMMON_SETTINGS, Capabilities, Setting

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit
    from qiskit.providers import BackendV2

    from ..methods import SimulationPlan
    from ..options import PrimitiveSettings

__all__ = [
    "GPU_BUILDS",
    "CuStateVecExecutor",
    "GpuDevice",
    "aer_gpu_build",
    "nvidia_gpus",
    "parse_nvidia_smi",
]

#: Distributions that install the GPU build of the ``qiskit_aer`` module, with their CUDA.
GPU_BUILDS = {"qiskit-aer-gpu": "CUDA 12", "qiskit-aer-gpu-cu11": "CUDA 11"}

#: The steps that leave exactly one build of ``qiskit_aer`` installed, the GPU one: the
#: ``gpu`` extra brings the GPU build and its CUDA libraries, but ``qiskit-aer`` too (a
#: dependency of this package), and both write the one ``qiskit_aer`` module.
KEEP_GPU_BUILD = (
    "pip uninstall -y qiskit-aer qiskit-aer-gpu && pip install --no-deps qiskit-aer-gpu=={version}"
)
INSTALL_HINT = f"pip install 'jupyter-qiskit-runtime[gpu]' && {KEEP_GPU_BUILD}"


@dataclass(frozen=True)
class GpuDevice:
    """One NVIDIA GPU as the driver lists it."""

    index: int
    name: str
    memory_bytes: int
    driver: str = ""


def parse_nvidia_smi(text: str) -> list[GpuDevice]:
    """The GPUs in the output of ``nvidia-smi --query-gpu=index,name,memory.total,
    driver_version --format=csv,noheader,nounits`` (memory in MiB); malformed lines are skipped."""
    devices = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) < 3 or not parts[0].isdigit() or not parts[2].isdigit():
            continue
        driver = parts[3] if len(parts) > 3 else ""
        devices.append(GpuDevice(int(parts[0]), parts[1], int(parts[2]) * 2**20, driver))
    return devices


def nvidia_gpus() -> tuple[list[GpuDevice], str]:
    """The NVIDIA GPUs of this machine, and why there are none when the list is empty."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return [], "no NVIDIA GPU driver was found (nvidia-smi is not on the PATH)"
    query = "--query-gpu=index,name,memory.total,driver_version"
    try:
        done = subprocess.run(
            [smi, query, "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return [], f"nvidia-smi could not be run: {exc}"
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        return [], f"nvidia-smi found no usable GPU ({said[0] if said else done.returncode})"
    devices = parse_nvidia_smi(done.stdout)
    return devices, "" if devices else "nvidia-smi lists no GPU"


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def aer_gpu_build() -> tuple[str | None, str]:
    """The distribution and version of the GPU build of ``qiskit_aer`` that is installed alone,
    as ``("qiskit-aer-gpu 0.18.2 (CUDA 12)", "")``; else ``(None, why and what to do)``.

    Read from package metadata: nothing is imported. ``qiskit-aer`` and the GPU builds install
    the same ``qiskit_aer`` module, so with both installed, which one runs depends on the order
    they were installed in: that counts as not usable."""
    cpu = _installed("qiskit-aer")
    gpus = {name: v for name in GPU_BUILDS if (v := _installed(name)) is not None}
    wanted = cpu or "<the qiskit-aer version you need>"
    if not gpus:
        build = f"qiskit-aer {cpu} is the CPU build" if cpu else "no qiskit-aer is installed"
        return None, (
            f"the GPU build of Qiskit Aer is not installed ({build}); install it with "
            + INSTALL_HINT.format(version=wanted)
            + " (docs/executors.md)"
        )
    if cpu is not None or len(gpus) > 1:
        names = ", ".join([*(["qiskit-aer"] if cpu else []), *gpus])
        return None, (
            f"{names} are all installed and write the one qiskit_aer module, so which build "
            "runs depends on the order they were installed in; keep only the GPU build: "
            + KEEP_GPU_BUILD.format(version=next(iter(gpus.values())))
        )
    name, found = next(iter(gpus.items()))
    return f"{name} {found} ({GPU_BUILDS[name]})", ""


class CuStateVecExecutor(AerExecutor):
    """Qiskit Aer's GPU build, statevector method, with cuStateVec, on one GPU.

    Noise-free by default. Every circuit runs as a statevector on the GPU, except Clifford
    circuits, which Aer's stabilizer method (CPU only) simulates faster at any width. A job
    whose statevector does not fit its share of the GPU's memory is refused before it starts.
    One job at a time per GPU by default (``max_concurrent_jobs``), each then getting
    ``memory_fraction`` of the device's memory divided by that number.
    """

    description = "Qiskit Aer on an NVIDIA GPU with cuStateVec"
    SETTINGS: ClassVar[Mapping[str, Setting]] = {
        **COMMON_SETTINGS,
        "precision": AerExecutor.SETTINGS["precision"],
        "max_concurrent_jobs": Setting(
            int,
            1,
            "Jobs that run on the GPU at once; each gets memory_fraction of its memory divided "
            "by this number. Executors on the same GPU share the limit.",
            minimum=1,
        ),
        "device_id": Setting(int, 0, "The GPU to use, as nvidia-smi numbers them.", minimum=0),
        "memory_fraction": Setting(
            float,
            0.9,
            "Fraction of the GPU's memory that jobs may use (cuStateVec and CUDA need some of "
            "the rest).",
            minimum=0.05,
            maximum=1.0,
        ),
        "device_memory_bytes": Setting(
            int,
            0,
            "The GPU's memory in bytes; 0 reads it from the driver (nvidia-smi) at start.",
            minimum=0,
        ),
    }
    DEFAULT_INSTANCES: ClassVar[Mapping[str, Mapping[str, Any]]] = {"custatevec": {}}

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self._device: GpuDevice | None = None
        self._build = ""
        self._gpu_checked = False

    @property
    def amplitude_bytes(self) -> int:
        """Bytes of one amplitude at the configured precision."""
        return 8 if self.settings.get("precision") == "single" else 16

    def job_memory_budget(self) -> int:
        """GPU memory one job may use, in bytes (0 while the device's memory is unknown)."""
        memory = int(self.settings.get("device_memory_bytes") or 0)
        share = float(self.settings["memory_fraction"]) / int(self.settings["max_concurrent_jobs"])
        return int(memory * share)

    def availability(self) -> str | None:
        """``None`` when the GPU build of Aer is installed alone and the configured GPU exists
        (its memory is then recorded in ``device_memory_bytes`` unless set); else why not."""
        devices, no_gpu = nvidia_gpus()
        build, no_build = aer_gpu_build()
        device_id = int(self.settings["device_id"])
        if no_gpu:
            return f"{no_gpu}; {no_build}" if no_build else no_gpu
        device = next((d for d in devices if d.index == device_id), None)
        if device is None:
            listed = ", ".join(f"{d.index} ({d.name})" for d in devices)
            return f"there is no GPU {device_id}; nvidia-smi lists {listed}"
        if build is None:
            return no_build
        self._device, self._build = device, build
        if not self.settings["device_memory_bytes"]:
            self.settings["device_memory_bytes"] = device.memory_bytes
        return None

    def describe(self) -> str:
        """The device and the Aer build, once ``availability`` found them."""
        where = f"GPU {self.settings['device_id']}"
        if self._device is not None:
            memory = self._device.memory_bytes / 2**30
            where += f" ({self._device.name}, {memory:.0f} GiB)"
        text = f"Qiskit Aer on {where} with cuStateVec"
        extras = ["with the backend's own noise model" if self.noisy else "noise-free"]
        if self.settings.get("precision") == "single":
            extras.append("single precision")
        if self._build:
            extras.append(self._build)
        return ", ".join([text, *extras])

    def capabilities(self) -> Capabilities:
        """GPU statevector (and CPU stabilizer for Clifford circuits), noise, the widest
        statevector its memory share holds."""
        budget = self.job_memory_budget()
        widest = int(math.log2(budget / self.amplitude_bytes)) if budget else None
        return Capabilities(
            devices=("GPU",),
            methods=("statevector", "stabilizer"),
            noise=True,
            max_qubits=widest,
            memory_bytes=budget or None,
        )

    def concurrency(self) -> tuple[str, int] | None:
        """The GPU, shared by every executor configured on it."""
        return f"gpu:{self.settings['device_id']}", int(self.settings["max_concurrent_jobs"])

    def simulator_options(self, method: str) -> dict[str, Any]:
        """GPU statevector with cuStateVec for ``statevector`` and ``automatic``; the CPU (no
        option) for the stabilizer method."""
        if method not in ("statevector", "automatic"):
            return {}
        return {
            "method": "statevector",
            "device": "GPU",
            "cuStateVec_enable": True,
            "target_gpus": [int(self.settings["device_id"])],
            "precision": self.settings["precision"],
        }

    def plan(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        noisy: bool,
        shots: int | Sequence[int],
        budget_bytes: int,
        parameterized: Sequence[bool] | None = None,
    ) -> SimulationPlan:
        """The stabilizer method (CPU) for Clifford circuits; otherwise a statevector on the
        GPU, with or without noise, refused when it does not fit the job's share of the GPU."""
        from ..errors import SimulationRefused
        from ..methods import format_bytes, plan_simulation

        base = plan_simulation(
            circuits, noisy=noisy, shots=shots, budget_bytes=0, parameterized=parameterized
        )
        if base.method == "stabilizer":
            return replace(
                base, reason=f"{base.reason} Aer's stabilizer method runs on the CPU, faster "
                "than any statevector."
            )  # fmt: skip
        n = base.active_qubits
        need = self.amplitude_bytes * 2**n
        budget = self.job_memory_budget()
        device = f"GPU {self.settings['device_id']}"
        if budget and need > budget:
            raise SimulationRefused(
                f"A statevector of {n} qubits needs {format_bytes(need)} on the GPU; a job of "
                f"executor '{self.name}' may use {format_bytes(budget)} of {device}'s memory "
                f"(memory_fraction {self.settings['memory_fraction']}, "
                f"{self.settings['max_concurrent_jobs']} job(s) at a time). Use fewer qubits, "
                "single precision, or a CPU executor such as @aer_ideal (matrix product states)."
            )
        reason = (
            f"{'Noisy statevector' if noisy else 'Statevector'} of {n} qubits on {device} with "
            f"cuStateVec, {format_bytes(need)}"
            + (f" of the {format_bytes(budget)} a job may use." if budget else ".")
        )
        return replace(
            base,
            method="statevector",
            memory_bytes=need,
            reason=reason,
            expected_methods=("statevector",) * len(base.circuits),
            max_parallel_shots=1,
            run_options={"method": "statevector"},
        )

    def backend(
        self, fake_backend: BackendV2 | None, options: PrimitiveSettings, method: str
    ) -> BackendV2:
        """As ``AerExecutor.backend``, on the GPU; fails with what to install when this
        worker's ``qiskit_aer`` has no GPU device."""
        if self.simulator_options(method):
            self._check_gpu_device()
        return super().backend(fake_backend, options, method)

    def _check_gpu_device(self) -> None:
        from qiskit_aer import AerSimulator

        if self._gpu_checked:
            return
        devices = AerSimulator().available_devices()
        self._gpu_checked = "GPU" in devices
        if not self._gpu_checked:
            raise RuntimeError(
                f"Executor '{self.name}' needs Qiskit Aer's GPU build and a GPU, but this "
                f"worker's qiskit_aer offers only {', '.join(devices)}. Install the GPU build: "
                + INSTALL_HINT.format(version="<qiskit-aer version>")
            )

"""Executors in one process: settings, configuration, plug-in discovery, the Aer executor's
backends, and the custatevec executor's configuration logic.

No GPU is needed. Where a test needs a GPU to be present, only the GPU is mocked (the
``nvidia_gpus`` probe that asks the driver), and the test says so; the installed packages are
always the real ones.
"""

from __future__ import annotations

import json
import logging
import pickle
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit_ibm_runtime import RuntimeDecoder

from jupyter_qiskit_runtime.execution.errors import SimulationRefused
from jupyter_qiskit_runtime.execution.executors import Executor, ExecutorConfigError, registry
from jupyter_qiskit_runtime.execution.executors import custatevec as custatevec_module
from jupyter_qiskit_runtime.execution.executors.aer import AerExecutor
from jupyter_qiskit_runtime.execution.executors.custatevec import (
    CuStateVecExecutor,
    GpuDevice,
    aer_gpu_build,
    parse_nvidia_smi,
)
from jupyter_qiskit_runtime.execution.options import PrimitiveSettings
from jupyter_qiskit_runtime.execution.programs import ProgramRunner, run_task
from jupyter_qiskit_runtime.execution.task import ExecutorRecipe, Task, TaskOutcome
from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog
from jupyter_qiskit_runtime.runtime.errors import BackendNotFoundError
from jupyter_qiskit_runtime.runtime.executor_config import configure_executors, parse_entry

from .circuits import bell_isa, params_for

LOG = logging.getLogger("test-executors")
GIB = 2**30


class RaisingExecutor(Executor):
    """A plug-in whose constructor fails."""

    def __init__(self, name: str, settings: Any = None) -> None:
        raise OSError("cannot open the device")

    def backend(self, fake_backend: Any, options: Any, method: str) -> Any:
        """Never reached."""


def mocked_gpu(monkeypatch: pytest.MonkeyPatch, memory: int = 80 * GIB) -> None:
    """Mock the GPU itself: the driver probe lists one device, GPU 0. Nothing else is mocked."""
    device = GpuDevice(0, "Mocked GPU", memory, "550.00")
    monkeypatch.setattr(custatevec_module, "nvidia_gpus", lambda: ([device], ""))


# -- settings and entries ---------------------------------------------------------------------


def test_settings_are_completed_and_checked() -> None:
    """Settings get their defaults; an unknown name or a wrong value says what is allowed."""
    aer = AerExecutor("fast", {"noise": False, "precision": "single", "threads": 2})
    assert aer.settings == {
        "noise": False, "precision": "single", "threads": 2, "default_shots": None,
        "max_concurrent_jobs": None,
    }  # fmt: skip
    assert AerExecutor("aer").noisy is True  # the aer type is noisy unless told otherwise
    with pytest.raises(ExecutorConfigError, match="unknown setting precison; type AerExecutor"):
        AerExecutor("x", {"precison": "single"})
    with pytest.raises(ExecutorConfigError, match="'precision' must be one of 'double', 'single'"):
        AerExecutor("x", {"precision": "half"})
    with pytest.raises(ExecutorConfigError, match="'noise' must be true or false, not 1"):
        AerExecutor("x", {"noise": 1})
    with pytest.raises(ExecutorConfigError, match="'threads' must be an integer, not True"):
        AerExecutor("x", {"threads": True})
    with pytest.raises(ExecutorConfigError, match=r"'memory_fraction' must be at most 1\.0"):
        CuStateVecExecutor("gpu", {"memory_fraction": 1.5})


def test_entries_take_a_mapping_or_its_json_text_and_default_the_type_to_the_name() -> None:
    """An entry is a mapping or JSON text (as the command line gives it); no type: its name."""
    assert parse_entry("fast", '{"type": "aer", "noise": false}') == ("aer", {"noise": False})
    assert parse_entry("custatevec", {}) == ("custatevec", {})
    with pytest.raises(ExecutorConfigError, match="not a valid executor name"):
        parse_entry("fake@aer", {})
    with pytest.raises(ExecutorConfigError, match="must be a mapping"):
        parse_entry("aer", ["aer"])


# -- configuration ------------------------------------------------------------------------------


def test_defaults_are_aer_and_aer_ideal_and_custatevec_only_where_it_runs(caplog) -> None:
    """Without configuration: aer (noisy) and aer_ideal; custatevec is added only where it can
    run, and a log line says why it was or was not (here: the real machine, probed)."""
    caplog.set_level(logging.INFO)
    setup = configure_executors({}, LOG)
    names = [spec.name for spec in setup.executors]
    assert names[:2] == ["aer", "aer_ideal"]
    assert [spec.noisy for spec in setup.executors[:2]] == [True, False]
    reason = CuStateVecExecutor("custatevec").availability()
    if reason is None:
        assert "custatevec" in names
        assert "Executor 'custatevec' is added: Qiskit Aer on GPU 0" in caplog.text
    else:
        assert names == ["aer", "aer_ideal"]
        assert setup.unavailable == {"custatevec": reason}
        assert f"Executor 'custatevec' (custatevec) is not added: {reason}." in caplog.text


def test_configuration_replaces_the_defaults_and_leaves_out_bad_entries(caplog) -> None:
    """Configured executors are the only ones; a bad one is left out with an error log line,
    and its backends' 404 says why. A plug-in that raises is left out the same way."""
    setup = configure_executors(
        {
            "aer_fast": {"type": "aer", "noise": False, "precision": "single"},
            "typo": {"type": "aer", "precison": "single"},
            "nowhere": {"type": "no_such_type"},
            "raising": {"type": "tests.test_executors:RaisingExecutor"},
        },
        LOG,
    )
    assert [spec.name for spec in setup.executors] == ["aer_fast"]
    fast = setup.executors[0]
    assert fast.type == "aer" and fast.recipe().settings["precision"] == "single"
    assert "unknown setting precison" in setup.unavailable["typo"]
    nowhere = setup.unavailable["nowhere"]
    assert "unknown type 'no_such_type'; the types installed are aer, custatevec" in nowhere
    assert setup.unavailable["raising"] == "it failed to start: OSError: cannot open the device"
    assert "Executor 'typo' (QiskitRuntimeApp.executors) is left out" in caplog.text
    catalog = BackendCatalog(setup.executors, setup.unavailable)
    with pytest.raises(BackendNotFoundError, match="Executor 'typo' cannot run on this server"):
        catalog.get("fake_manila@typo")
    with pytest.raises(BackendNotFoundError, match="This server has no executor 'aer'"):
        catalog.get("fake_manila@aer")


def test_configuring_imports_no_qiskit() -> None:
    """Finding executor types and checking the default executors (GPU probe included) imports
    no Qiskit module: the server pays for Qiskit only in its workers."""
    code = (
        "import sys, json, logging\n"
        "from jupyter_qiskit_runtime.runtime.executor_config import configure_executors\n"
        "configure_executors({}, logging.getLogger('x'))\n"
        "configure_executors({'g': {'type': 'custatevec'}}, logging.getLogger('x'))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0].startswith('qiskit'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# -- plug-in discovery --------------------------------------------------------------------------


def test_broken_plugins_are_logged_and_skipped(monkeypatch, tmp_path: Path, caplog) -> None:
    """Entry points that raise on import, are not Executors, or take a built-in's name are each
    skipped with a warning; a good one is found; built-ins never depend on entry points."""
    (tmp_path / "raises_on_import.py").write_text("raise ImportError('missing CUDA')\n")
    (tmp_path / "good_plugin.py").write_text(
        "from jupyter_qiskit_runtime.execution.executors.aer import AerExecutor\n"
        "class Good(AerExecutor):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    group = registry.ENTRY_POINT_GROUP
    points = [
        EntryPoint("broken", "raises_on_import:Thing", group),
        EntryPoint("not_executor", "json:loads", group),
        EntryPoint("aer", "good_plugin:Good", group),
        EntryPoint("good", "good_plugin:Good", group),
    ]
    monkeypatch.setattr(registry, "_entry_points", lambda: points)
    types = registry.discover_executor_types(LOG)
    assert list(types) == ["aer", "custatevec", "good"]
    assert types["aer"].ref == registry.BUILTIN_TYPES["aer"]
    assert types["good"].cls.__name__ == "Good"
    assert "'broken' = raises_on_import:Thing" in caplog.text
    assert "could not be loaded and is skipped: ImportError: missing CUDA" in caplog.text
    assert "json:loads is not a subclass of" in caplog.text
    assert "the type name 'aer' is taken by jupyter-qiskit-runtime" in caplog.text


# -- the Aer executor in a worker ---------------------------------------------------------------


def test_aer_backend_is_the_fake_backend_itself_only_at_default_settings() -> None:
    """@aer runs on the fake backend object, as local testing mode does; with settings it runs
    on an AerSimulator built from it; noise-free, on a kept AerSimulator for the method."""
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    fake = FakeManilaV2()
    options = PrimitiveSettings()
    assert AerExecutor("aer").backend(fake, options, "automatic") is fake
    single = AerExecutor("aer_single", {"precision": "single", "threads": 1})
    built = single.backend(fake, options, "automatic")
    assert built is not fake and built.options.precision == "single"
    assert built.options.max_parallel_threads == 1
    ideal = AerExecutor("aer_ideal", {"noise": False})
    simulator = ideal.backend(fake, options, "statevector")
    assert simulator.options.method == "statevector" and simulator.options.noise_model is None
    assert ideal.backend(None, options, "statevector") is simulator


def test_worker_makes_each_executor_once_from_its_recipe() -> None:
    """A worker makes an executor from the recipe the server sends, once per distinct recipe,
    also when the recipe arrives as a copy (pickled, as over a worker's pipe)."""
    runner = ProgramRunner()
    recipe = ExecutorRecipe(
        "fast", "aer", registry.BUILTIN_TYPES["aer"], {"noise": False, "threads": 1}
    )
    executor = runner.executor(recipe)
    assert isinstance(executor, AerExecutor) and executor.name == "fast" and not executor.noisy
    assert runner.executor(pickle.loads(pickle.dumps(recipe))) is executor
    noisy = runner.executor(ExecutorRecipe("aer", "aer", registry.BUILTIN_TYPES["aer"], {}))
    assert noisy is not executor and noisy.noisy


def test_a_task_from_the_catalog_runs_after_a_round_trip_through_pickle() -> None:
    """The task the scheduler builds (typed, picklable) runs in a worker's ``run_task`` and gives
    a ``TaskOutcome``: here a Bell sampler job, in this test process (not a server's)."""
    backend = BackendCatalog().get("fake_manila@aer_ideal")
    params = json.dumps(params_for([(bell_isa(), None, 200)]))
    task = Task("job-1", "sampler", backend.recipe(), params, memory_budget=GIB)
    outcome = run_task(pickle.loads(pickle.dumps(task)), ProgramRunner())
    assert isinstance(outcome, TaskOutcome) and outcome.ok, outcome.traceback
    counts = json.loads(outcome.result or "", cls=RuntimeDecoder)[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 200
    assert outcome.metrics["simulator"]["executor"] == "aer_ideal"
    failed = run_task(Task("job-2", "estimator", backend.recipe(), params), ProgramRunner())
    assert not failed.ok and "ParamsError" in (failed.error or "")
    assert "Traceback" in (failed.traceback or "") and "ParamsError" in failed.logs


# -- custatevec: configuration logic ------------------------------------------------------------


def test_nvidia_smi_output_is_parsed() -> None:
    """The driver's listing gives index, name and memory (MiB) of each GPU."""
    text = "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n1, NVIDIA A10, 23028, 550.54.15\nbad\n"
    assert parse_nvidia_smi(text) == [
        GpuDevice(0, "NVIDIA H100 80GB HBM3", 81559 * 2**20, "550.54.15"),
        GpuDevice(1, "NVIDIA A10", 23028 * 2**20, "550.54.15"),
    ]


def test_custatevec_needs_the_gpu_build_even_with_a_gpu(monkeypatch) -> None:
    """With a GPU (mocked: only the GPU) custatevec still needs Aer's GPU build installed alone;
    the reason says how to get it. A device the driver does not list is refused too."""
    mocked_gpu(monkeypatch)
    build, why = aer_gpu_build()  # the real packages of this environment
    executor = CuStateVecExecutor("custatevec")
    if build is None:
        assert executor.availability() == why
        assert "pip uninstall -y qiskit-aer qiskit-aer-gpu" in why
    else:
        assert executor.availability() is None
        assert executor.settings["device_memory_bytes"] == 80 * GIB
        assert "Mocked GPU, 80 GiB" in executor.describe()
    other = CuStateVecExecutor("gpu3", {"device_id": 3})
    assert other.availability() == "there is no GPU 3; nvidia-smi lists 0 (Mocked GPU)"


def test_custatevec_memory_share_capabilities_and_concurrency() -> None:
    """A job's share of the GPU is memory_fraction of its memory over max_concurrent_jobs; the
    widest statevector follows from it and the precision; executors on one GPU share a key."""
    one = CuStateVecExecutor("custatevec", {"device_memory_bytes": 80 * GIB})
    assert one.job_memory_budget() == int(80 * GIB * 0.9)
    capabilities = one.capabilities()
    assert capabilities.devices == ("GPU",) and capabilities.max_qubits == 32
    single = CuStateVecExecutor("s", {"device_memory_bytes": 80 * GIB, "precision": "single"})
    assert single.capabilities().max_qubits == 33
    two = CuStateVecExecutor("two", {"device_memory_bytes": 80 * GIB, "max_concurrent_jobs": 2})
    assert two.capabilities().max_qubits == 31
    assert one.concurrency() == ("gpu:0", 1) and two.concurrency() == ("gpu:0", 2)
    assert CuStateVecExecutor("g1", {"device_id": 1}).concurrency() == ("gpu:1", 1)
    assert one.simulator_options("statevector") == {
        "method": "statevector", "device": "GPU", "cuStateVec_enable": True,
        "target_gpus": [0], "precision": "double",
    }  # fmt: skip
    assert one.simulator_options("stabilizer") == {}


def _rotations(width: int) -> QuantumCircuit:
    circuit = QuantumCircuit(width)
    circuit.ry(0.3, range(width))
    for q in range(width - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def test_custatevec_plans_gpu_statevectors_and_refuses_what_does_not_fit() -> None:
    """Non-Clifford circuits are GPU statevectors; Clifford ones the CPU stabilizer method; a
    statevector over the job's GPU memory share is refused before anything is allocated."""
    executor = CuStateVecExecutor("custatevec", {"device_memory_bytes": 2**20})  # 1 MiB GPU
    plan = executor.plan([_rotations(10)], noisy=False, shots=100, budget_bytes=0)
    assert plan.method == "statevector" and plan.run_options == {"method": "statevector"}
    assert plan.memory_bytes == 16 * 2**10
    assert "Statevector of 10 qubits on GPU 0 with cuStateVec" in plan.reason
    noisy = executor.plan([_rotations(10)], noisy=True, shots=100, budget_bytes=0)
    assert noisy.method == "statevector" and noisy.reason.startswith("Noisy statevector")
    ghz = QuantumCircuit(40)
    ghz.h(0)
    for q in range(39):
        ghz.cx(q, q + 1)
    ghz.measure_all()
    assert executor.plan([ghz], noisy=False, shots=100, budget_bytes=0).method == "stabilizer"
    with pytest.raises(SimulationRefused, match="A statevector of 16 qubits needs 1 MiB on"):
        executor.plan([_rotations(16)], noisy=False, shots=100, budget_bytes=0)

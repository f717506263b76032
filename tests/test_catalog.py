"""BackendCatalog: virtual backends named ``<metadata>@<executor>``, and a Qiskit-free import."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

from jupyter_qiskit_runtime.runtime.catalog import (
    DEFAULT_EXECUTORS,
    IDEAL_WIDTHS,
    BackendCatalog,
    ConfiguredExecutor,
)
from jupyter_qiskit_runtime.runtime.errors import BackendNotFoundError


@pytest.fixture(scope="module")
def fake_names() -> set[str]:
    """Names of the distinct fake backends qiskit-ibm-runtime ships, found by its own provider."""
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some fake backends warn about their calibration data
        return {backend.name for backend in FakeProviderForBackendV2().backends()}


@pytest.fixture(scope="module")
def catalog() -> BackendCatalog:
    """The default catalog, built once (reading the fake backends' files is the slow part)."""
    return BackendCatalog()


def test_every_fake_and_ideal_backend_under_every_executor(catalog, fake_names) -> None:
    """The catalog has each distinct fake backend and each ideal width under each executor."""
    names = catalog.names()
    expected_meta = fake_names | {f"ideal_{n}q" for n in IDEAL_WIDTHS}
    assert len(fake_names) > 50
    assert len(names) == (len(fake_names) + len(IDEAL_WIDTHS)) * len(DEFAULT_EXECUTORS)
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    assert {n.split("@")[0] for n in names} == expected_meta
    for executor in DEFAULT_EXECUTORS:
        assert sum(n.endswith(f"@{executor.name}") for n in names) == len(expected_meta)


def test_custom_executors_name_the_backends(fake_names) -> None:
    """The executors given to the catalog (and only those) make up the names' suffixes."""
    gpu = ConfiguredExecutor("aer_gpu", False, "Qiskit Aer on GPU")
    catalog = BackendCatalog(executors=(gpu,))
    names = catalog.names()
    assert len(names) == len(fake_names) + len(IDEAL_WIDTHS)
    assert all(n.endswith("@aer_gpu") for n in names)
    assert catalog.get("fake_manila@aer_gpu").executor is gpu
    with pytest.raises(BackendNotFoundError, match="executors: aer_gpu"):
        catalog.get("fake_manila@aer")


@pytest.mark.parametrize(
    ("name", "qubits"),
    [("fake_manila@aer", 5), ("fake_manila@aer_ideal", 5), ("ideal_32q@aer_ideal", 32)],
)
def test_configuration_is_named_after_the_virtual_backend(catalog, name, qubits) -> None:
    """The configuration carries the requested name, the metadata's width and the executor."""
    conf = catalog.configuration(name)
    assert conf["backend_name"] == name
    assert conf["n_qubits"] == qubits == catalog.get(name).metadata.n_qubits
    assert catalog.get(name).executor.description in conf["description"]
    assert json.loads(json.dumps(conf)) == conf  # plain JSON data


def test_configuration_is_a_fresh_copy(catalog) -> None:
    """Changing a configuration that was handed out does not change the next one, nor the same
    metadata's configuration under the other executor."""
    conf = catalog.configuration("fake_manila@aer")
    conf["basis_gates"].append("not_a_gate")
    conf["n_qubits"] = 999
    again = catalog.configuration("fake_manila@aer")
    assert "not_a_gate" not in again["basis_gates"]
    assert again["n_qubits"] == 5
    assert catalog.configuration("fake_manila@aer_ideal")["backend_name"] == "fake_manila@aer_ideal"


def test_ideal_backends_are_all_to_all_without_properties(catalog) -> None:
    """An ideal simulator has no coupling map and no calibration properties."""
    for width in IDEAL_WIDTHS:
        name = f"ideal_{width}q@aer_ideal"
        assert catalog.properties(name) is None
        conf = catalog.configuration(name)
        assert conf["coupling_map"] is None
        assert conf["simulator"] is True
        assert "cx" in conf["basis_gates"]


def test_fake_backend_properties_are_named_after_the_virtual_backend(catalog) -> None:
    """A fake backend's calibration data is served under the virtual name, one per qubit."""
    for name in ("fake_manila@aer", "fake_manila@aer_ideal"):
        props = catalog.properties(name)
        assert props is not None
        assert props["backend_name"] == name
        assert len(props["qubits"]) == 5


def test_status_and_summaries(catalog) -> None:
    """Status and the listing report, as the queue length, the unfinished jobs of every
    executor that shares the backend's resource (here all share the worker pool), and only
    summary fields; status also names the executor and its own unfinished jobs."""
    lengths = {"fake_manila@aer": 3, "fake_kyiv@aer": 2, "fake_manila@aer_ideal": 7}
    status = catalog.status("fake_manila@aer", lengths)
    assert status["state"] is True and status["length_queue"] == 12
    assert status["executor"] == "aer" and status["executor_queue_length"] == 5
    summaries = {s["name"]: s for s in catalog.summaries({"ideal_5q@aer_ideal": 2})}
    assert summaries["ideal_5q@aer_ideal"]["queue_length"] == 2
    assert summaries["fake_manila@aer"]["queue_length"] == 2
    assert summaries["fake_manila@aer"]["qubits"] == 5
    assert summaries["fake_manila@aer"]["physical_qubits"] == 5
    assert set(summaries["fake_manila@aer"]) == {
        "name",
        "qubits",
        "physical_qubits",
        "status",
        "queue_length",
        "executor",
        "runs_as",
    }
    with pytest.raises(BackendNotFoundError):
        catalog.status("fake_nowhere@aer", {})


def test_a_gpu_executor_queues_apart_from_the_worker_pool(fake_names) -> None:
    """Executors that share a resource (a GPU's concurrency key) count each other's jobs, and
    not the worker pool's; the pool's executors count each other's."""
    pool = ConfiguredExecutor("aer", True, "CPU")
    gpu = ConfiguredExecutor("gpu", False, "GPU", concurrency_key="gpu:0", max_concurrent_jobs=1)
    gpu_too = ConfiguredExecutor("gpu2", True, "GPU", concurrency_key="gpu:0")
    catalog = BackendCatalog(executors=(pool, gpu, gpu_too))
    lengths = {"fake_manila@aer": 4, "fake_manila@gpu": 1, "fake_kyiv@gpu2": 2}
    assert catalog.pending_work(lengths) == {"aer": 4, "gpu": 3, "gpu2": 3}
    assert catalog.status("ibm_kyiv", lengths)["length_queue"] == 4


def test_device_names_resolve_to_the_device_executor(catalog, fake_names) -> None:
    """Each fake backend whose configuration names an IBM device (ibm_*, ibmq_*) answers to
    that name on the device executor: it resolves, answers configuration and properties under
    its own name with the virtual backend's calibration, and is listed."""
    devices = catalog.device_names()
    assert len(devices) >= 60
    assert devices["ibm_kingston"] == "fake_kingston@aer"
    assert devices["ibmq_manila"] == "fake_manila@aer"
    assert all(alias.startswith("ibm") and "@" not in alias for alias in devices)
    assert not set(devices) & set(catalog.names())
    assert catalog.resolve("ibm_kingston") == "fake_kingston@aer"
    assert catalog.resolve("fake_kingston@aer_ideal") == "fake_kingston@aer_ideal"
    assert catalog.get("ibm_kingston") is catalog.get("fake_kingston@aer")
    conf = catalog.configuration("ibm_kingston")
    assert conf["backend_name"] == "ibm_kingston"
    assert "fake_kingston@aer" in conf["description"]
    assert conf["calibration_id"] == catalog.calibration_id("fake_kingston@aer")
    assert {k: v for k, v in conf.items() if k not in ("backend_name", "description")} == {
        k: v
        for k, v in catalog.configuration("fake_kingston@aer").items()
        if k not in ("backend_name", "description")
    }
    props = catalog.properties("ibmq_manila")
    assert props is not None and props["backend_name"] == "ibmq_manila"
    assert props["qubits"] == catalog.properties("fake_manila@aer")["qubits"]  # type: ignore[index]
    listed = {s["name"]: s for s in catalog.summaries({})}
    assert listed["ibm_kingston"]["runs_as"] == "fake_kingston@aer"
    assert listed["ibm_kingston"]["qubits"] == 156
    with pytest.raises(BackendNotFoundError, match="Did you mean ibm_kingston"):
        catalog.get("ibm_kingstn")


@pytest.mark.parametrize("device_executor", ["", "custatevec"])
def test_no_device_names_without_their_executor(device_executor) -> None:
    """With no device executor, or one the server does not run, there are no device names."""
    catalog = BackendCatalog(device_executor=device_executor)
    assert catalog.device_executor is None
    assert catalog.device_names() == {}
    with pytest.raises(BackendNotFoundError):
        catalog.get("ibm_kingston")


def test_device_names_follow_the_chosen_executor() -> None:
    """The administrator's device executor runs the device names."""
    catalog = BackendCatalog(device_executor="aer_ideal")
    assert catalog.resolve("ibm_kingston") == "fake_kingston@aer_ideal"


def test_listing_puts_the_soonest_backend_first(catalog) -> None:
    """The listing's order is the documented tie-break of least_busy: noise-free before noisy,
    wider before narrower, virtual backends before device names."""
    listed = catalog.summaries({})
    assert len(listed) == len(catalog.names()) + len(catalog.device_names())
    executors = {e.name: e for e in catalog.executors}

    def key(s: dict) -> tuple:
        return (executors[s["executor"]].noisy, -s["qubits"], "@" not in s["name"])

    keys = [key(s) for s in listed]
    assert keys == sorted(keys)
    assert listed[0]["qubits"] == max(s["qubits"] for s in listed)
    assert not executors[listed[0]["executor"]].noisy


@pytest.mark.parametrize(
    ("asked", "suggested"),
    [
        ("fake_manla@aer", ["fake_manila@aer"]),
        ("fake_manila", ["fake_manila@aer", "fake_manila@aer_ideal"]),
        ("fake_manila@aer_idea", ["fake_manila@aer_ideal"]),
        ("ideal_5q", ["ideal_5q@aer", "ideal_5q@aer_ideal"]),
    ],
)
def test_unknown_name_suggests_close_matches(catalog, asked, suggested) -> None:
    """A near miss is a BackendNotFoundError whose message names the intended backends."""
    with pytest.raises(BackendNotFoundError) as exc:
        catalog.get(asked)
    message = exc.value.message
    assert f"Backend '{asked}' does not exist. Did you mean " in message
    for name in suggested:
        assert name in message
    assert "executors: aer, aer_ideal" in message


def test_far_off_name_has_no_suggestion(catalog) -> None:
    """A name like nothing in the catalog gets no "Did you mean", only the naming rule."""
    with pytest.raises(BackendNotFoundError) as exc:
        catalog.configuration("zzzzzzzz")
    assert "Did you mean" not in exc.value.message
    assert "'<fake backend>@<executor>'" in exc.value.message


def test_importing_the_package_and_app_does_not_import_qiskit() -> None:
    """An idle Jupyter server loading the extension pays nothing for Qiskit: importing the
    package and its app (and building the lazy catalog object) imports no Qiskit module."""
    code = (
        "import sys, json\n"
        "import jupyter_qiskit_runtime, jupyter_qiskit_runtime.app\n"
        "from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog\n"
        "BackendCatalog()\n"
        "assert 'jupyter_qiskit_runtime.app' in sys.modules\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0].startswith('qiskit'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []

"""The service and backend endpoints through Jupyter Server's real HTTP layer (pytest-jupyter)."""

from __future__ import annotations

import json

import pytest
from qiskit_ibm_runtime.utils.backend_converter import convert_to_target
from qiskit_ibm_runtime.utils.backend_decoder import (
    configuration_from_server_data,
    properties_from_server_data,
)

from .http_helpers import (
    API,
    decode,
    error_of,
    get_json,
)

# -- service ----------------------------------------------------------------------------------


async def test_root_describes_version_programs_and_executors(jp_fetch) -> None:
    """``GET v1`` names the server's version, its programs and both executors."""
    from jupyter_qiskit_runtime import __version__

    info = await get_json(jp_fetch)
    assert info["version"] == __version__
    assert info["api_version"] == "v1"
    assert {"sampler", "estimator", "executor"} <= {p["id"] for p in info["programs"]}
    executors = {e["name"]: e["noisy"] for e in info["executors"]}
    assert executors == {"aer": True, "aer_ideal": False}


async def test_instance_usage_is_never_limited(jp_fetch) -> None:
    """``GET v1/instances/usage`` answers in IBM's shape with no limit reached."""
    usage = await get_json(jp_fetch, "instances", "usage")
    assert usage["usage_limit_reached"] is False
    assert usage["usage_consumed_seconds"] == 0
    remaining = usage["usage_remaining_seconds"]
    assert isinstance(remaining, int) and remaining >= 2**31 - 1  # an int, as IBM's


# -- backends ---------------------------------------------------------------------------------


async def test_backend_listing_is_complete_online_and_small(jp_fetch) -> None:
    """Every backend is listed once, online, with only summary fields: the listing stays small.

    The listing has ~200 entries (~140 virtual backends and ~60 IBM device names) of seven short
    fields (about 200 bytes each, 40 kB in all). The bound of 100 kB is well above that, yet far
    below what the listing would weigh if it embedded configurations or properties (fake_aachen's
    properties alone are over 600 kB).
    """
    response = await jp_fetch(*API, "backends")
    devices = decode(response)["devices"]
    names = [d["name"] for d in devices]
    assert len(names) == len(set(names))
    for device in devices:
        assert isinstance(device["name"], str)
        assert isinstance(device["qubits"], int) and device["qubits"] > 0
        assert device["physical_qubits"] == device["qubits"]
        assert device["status"]["name"] == "online"
        assert device["queue_length"] == 0
        assert device.get("class") != "mock"
        assert not {"configuration", "properties", "coupling_map", "gates"} & set(device)
    assert {"fake_manila@aer", "fake_manila@aer_ideal", "ideal_5q@aer_ideal"} <= set(names)
    assert {"ibm_kingston", "ibmq_manila"} <= set(names)
    assert len(response.body) < 100_000


async def test_device_name_answers_as_its_virtual_backend_under_its_own_name(jp_fetch) -> None:
    """``ibm_kingston`` is fake_kingston@aer (the default device executor) under its own name:
    configuration, properties and status; its listing entry says what it runs as."""
    conf = await get_json(jp_fetch, "backends", "ibm_kingston", "configuration")
    props = await get_json(jp_fetch, "backends", "ibm_kingston", "properties")
    virtual = await get_json(jp_fetch, "backends", "fake_kingston@aer", "configuration")
    assert conf["backend_name"] == props["backend_name"] == "ibm_kingston"
    assert conf["n_qubits"] == 156 and conf["coupling_map"] == virtual["coupling_map"]
    assert conf["calibration_id"] == virtual["calibration_id"]
    await get_json(
        jp_fetch, "backends", "ibm_kingston", "properties",
        params={"calibration_id": conf["calibration_id"]},
    )  # fmt: skip
    status = await get_json(jp_fetch, "backends", "ibm_kingston", "status")
    assert status["executor"] == "aer" and status["state"] is True
    devices = {d["name"]: d for d in (await get_json(jp_fetch, "backends"))["devices"]}
    assert devices["ibm_kingston"]["runs_as"] == "fake_kingston@aer"
    assert devices["fake_kingston@aer"]["runs_as"] == "fake_kingston@aer"


async def test_configuration_names_the_virtual_backend_and_builds_a_target(jp_fetch) -> None:
    """The client's own decoders build a Target from fake_manila@aer's configuration+properties."""
    raw_conf = await get_json(jp_fetch, "backends", "fake_manila@aer", "configuration")
    raw_props = await get_json(jp_fetch, "backends", "fake_manila@aer", "properties")
    assert raw_conf["backend_name"] == "fake_manila@aer"
    assert raw_props["backend_name"] == "fake_manila@aer"
    assert {"qubits", "gates", "last_update_date"} <= set(raw_props)
    assert len(raw_props["qubits"]) == 5

    configuration = configuration_from_server_data(raw_conf)
    assert configuration is not None
    assert configuration.backend_name == "fake_manila@aer"
    properties = properties_from_server_data(raw_props)
    target = convert_to_target(configuration, properties)
    assert target.num_qubits == 5
    assert "cx" in target.operation_names
    # Calibration data made it through: the CX gates carry an error rate.
    cx_errors = [p.error for p in target["cx"].values() if p is not None]
    assert cx_errors and all(e is not None and 0 < e < 1 for e in cx_errors)


async def test_ideal_configuration_builds_an_all_to_all_target(jp_fetch) -> None:
    """ideal_5q@aer_ideal has empty properties and gives a Target with no coupling constraint."""
    raw_conf = await get_json(jp_fetch, "backends", "ideal_5q@aer_ideal", "configuration")
    raw_props = await get_json(jp_fetch, "backends", "ideal_5q@aer_ideal", "properties")
    assert raw_conf["backend_name"] == "ideal_5q@aer_ideal"
    assert raw_conf["simulator"] is True
    assert raw_props == {}

    configuration = configuration_from_server_data(raw_conf)
    assert configuration is not None
    target = convert_to_target(configuration, None)
    assert target.num_qubits == 5
    assert {"cx", "h", "measure"} <= set(target.operation_names)
    # All-to-all: a CX between any two qubits is allowed.
    assert target.instruction_supported("cx", (0, 4))
    assert target.instruction_supported("cx", (3, 1))


async def test_backend_status_has_the_shape_the_client_reads(jp_fetch) -> None:
    """``GET backends/{name}/status``: operational state and a queue length of zero when idle."""
    status = await get_json(jp_fetch, "backends", "fake_manila@aer", "status")
    assert status["state"] is True
    assert status["status"] == "active"
    assert status["length_queue"] == 0
    assert isinstance(status["backend_version"], str)


async def test_unknown_backend_is_404_naming_close_matches(jp_fetch) -> None:
    """A misspelt backend name is a 404 whose message suggests the intended backend."""
    message = await error_of(
        jp_fetch(*API, "backends", "fake_manla@aer", "configuration"), status=404
    )
    assert "fake_manla@aer" in message
    assert "fake_manila@aer" in message
    for endpoint in ("properties", "status"):
        message = await error_of(jp_fetch(*API, "backends", "nope@aer", endpoint), status=404)
        assert "'nope@aer' does not exist" in message


async def test_unimplemented_endpoint_is_a_json_404(jp_fetch, anon_fetch) -> None:
    """A path under the API that this server does not serve is a JSON 404 the client can show
    (not Jupyter's HTML page), and still needs credentials."""
    message = await error_of(
        jp_fetch(*API, "no-such-endpoint", method="POST", body=json.dumps({"mode": "batch"})), 404
    )
    assert "does not implement POST" in message and "no-such-endpoint" in message
    anonymous = await anon_fetch(*API, "no-such-endpoint", method="POST", body="{}")
    assert anonymous.code == 403
    assert "error" in json.loads(anonymous.body)


class TestEmptyDatabasePath:
    """An empty ``db_path`` means the default location, not a throwaway database."""

    @pytest.fixture
    def jp_server_config(self) -> dict:
        """The extension with ``db_path`` explicitly empty."""
        return {
            "ServerApp": {"jpserver_extensions": {"jupyter_qiskit_runtime": True}},
            "QiskitRuntimeApp": {"db_path": ""},
        }

    async def test_empty_db_path_uses_the_jupyter_data_dir(self, jp_serverapp, jp_data_dir):
        """The database is ``<jupyter data dir>/qiskit_runtime/jobs.sqlite3``."""
        (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_qiskit_runtime"]
        expected = jp_data_dir / "qiskit_runtime" / "jobs.sqlite3"
        assert app.runtime.store.path == str(expected)
        assert expected.exists()

"""Backends: list, configuration, properties, status.

A backend is a virtual backend (``fake_kingston@aer``) or an IBM device name (``ibm_kingston``),
which answers as the virtual backend it runs on, under its own name. Configuration and
properties are served as JSON serialized once (``APIHandler.finish`` sends bytes as
``application/json``).

Each backend has exactly one calibration, and so one ``calibration_id``: for a backend with
calibration data, ``<metadata>-<its properties' last_update_date in UTC, YYYYMMDDTHHMMSSZ>``
(``fake_manila@aer`` and ``fake_manila@aer_ideal`` share ``fake_manila-20240527T182723Z``); for
an ideal simulator, ``<metadata>-ideal``. Configuration and properties carry it as
``calibration_id``. ``?calibration_id=`` with any other id, here or in a job, is a 404.
"""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RuntimeHandler
from .query import bool_argument, time_argument

_NAME = r"(?P<name>[^/]+)"


class BackendsHandler(RuntimeHandler):
    """``GET /backends``: every virtual backend, with only the fields the client reads."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List the backends. ``include_mocks`` (``true`` or ``false``, as the client sends it;
        anything else is a 400) is accepted: no backend here is a mock.

        In a thread: the first listing reads every fake backend's files (seconds), which must
        not hold up the server's other requests."""
        bool_argument(self, "include_mocks", False)
        self.write_json(await asyncio.to_thread(self.runtime.backends))


class BackendConfigurationHandler(RuntimeHandler):
    """``GET /backends/{name}/configuration``."""

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """A backend's configuration; ``calibration_id`` must be the backend's one (else 404)."""
        calibration_id = self.get_query_argument("calibration_id", None)
        self.finish(self.runtime.backend_configuration(name, calibration_id))


class BackendPropertiesHandler(RuntimeHandler):
    """``GET /backends/{name}/properties``."""

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """A backend's calibration properties (``{}`` for an ideal simulator).

        ``calibration_id`` must be the backend's one; ``updated_before`` (ISO 8601, which
        ``job.properties()`` sends as the job's start) asks for the calibration in force then:
        a 404 if the backend's one calibration is newer.
        """
        self.finish(
            self.runtime.backend_properties(
                name,
                calibration_id=self.get_query_argument("calibration_id", None),
                updated_before=time_argument(self, "updated_before"),
            )
        )


class BackendStatusHandler(RuntimeHandler):
    """``GET /backends/{name}/status``."""

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """A backend's status and queue length."""
        self.write_json(self.runtime.backend_status(name))


default_handlers = [
    (r"/v1/backends", BackendsHandler),
    (rf"/v1/backends/{_NAME}/configuration", BackendConfigurationHandler),
    (rf"/v1/backends/{_NAME}/properties", BackendPropertiesHandler),
    (rf"/v1/backends/{_NAME}/status", BackendStatusHandler),
]

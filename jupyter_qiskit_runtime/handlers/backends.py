"""Backends: list, configuration, properties, status."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RuntimeHandler

_NAME = r"(?P<name>[^/]+)"


class BackendsHandler(RuntimeHandler):
    """``GET /backends``: every virtual backend, with only the fields the client reads."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """List the backends."""
        self.write_json(self.runtime.backends())


class BackendConfigurationHandler(RuntimeHandler):
    """``GET /backends/{name}/configuration``."""

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """A backend's configuration."""
        self.write_json(self.runtime.backend_configuration(name))


class BackendPropertiesHandler(RuntimeHandler):
    """``GET /backends/{name}/properties``."""

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        """A backend's calibration properties."""
        self.write_json(self.runtime.backend_properties(name))


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

"""The API's root answer, instance usage, and a JSON 404 for any other path under ``/v1``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..runtime.errors import NotFoundError
from .api_docs import api_links
from .base import RuntimeHandler


class RootHandler(RuntimeHandler):
    """``GET /v1``: version, programs and executors of this server."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Describe this server."""
        self.write_json({**self.runtime.info(), "links": api_links(self.base_url)})


class UsageHandler(RuntimeHandler):
    """``GET /v1/instances/usage``: the client asks before every job."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Usage of the instance: never limited on a local server."""
        self.write_json(self.runtime.usage(self.owner))


class UnknownEndpointHandler(RuntimeHandler):
    """Any other path under the API: a JSON 404 that the client can show, not an HTML page."""

    def _unknown(self) -> None:
        raise NotFoundError(
            f"This server does not implement {self.request.method} {self.request.path}. "
            "It serves backends, jobs (create, list, get, delete, results, cancel, logs, "
            "metrics, tags), workloads, sessions and instances/usage."
        )

    @web.authenticated
    @authorized
    def get(self, *args: str) -> None:
        """Not implemented here."""
        self._unknown()

    @web.authenticated
    @authorized
    def post(self, *args: str) -> None:
        """Not implemented here."""
        self._unknown()

    @web.authenticated
    @authorized
    def put(self, *args: str) -> None:
        """Not implemented here."""
        self._unknown()

    @web.authenticated
    @authorized
    def patch(self, *args: str) -> None:
        """Not implemented here."""
        self._unknown()

    @web.authenticated
    @authorized
    def delete(self, *args: str) -> None:
        """Not implemented here."""
        self._unknown()


default_handlers = [
    (r"/v1/?", RootHandler),
    (r"/v1/instances/usage", UsageHandler),
]

"""``GET /v1/openapi.json``: the API's OpenAPI 3.1 document."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RuntimeHandler


class OpenAPIHandler(RuntimeHandler):
    """The OpenAPI document, its server at this Jupyter server's ``{base_url}qiskit-runtime``."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer the document (pydantic is imported on the first request, not at start)."""
        from ..openapi import openapi_document

        self.write_json(openapi_document(self.base_url))


default_handlers = [
    (r"/v1/openapi\.json", OpenAPIHandler),
]

"""The REST layer: thin Tornado handlers over the runtime."""

from .backends import default_handlers as _backend_handlers
from .jobs import default_handlers as _job_handlers
from .openapi import default_handlers as _openapi_handlers
from .service import UnknownEndpointHandler
from .service import default_handlers as _service_handlers
from .sessions import default_handlers as _session_handlers

#: Every route of the API, relative to ``{base_url}qiskit-runtime``; unknown paths last.
default_handlers = [
    *_service_handlers,
    *_backend_handlers,
    *_job_handlers,
    *_session_handlers,
    *_openapi_handlers,
    (r"/v1/(.*)", UnknownEndpointHandler),
]

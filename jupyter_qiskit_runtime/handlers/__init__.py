"""The REST layer: thin Tornado handlers over the runtime."""

from .api_docs import default_handlers as _api_docs_handlers
from .backends import default_handlers as _backend_handlers
from .iam import default_handlers as _iam_handlers
from .jobs import default_handlers as _job_handlers
from .openapi import default_handlers as _openapi_handlers
from .root import UnknownEndpointHandler
from .root import default_handlers as _root_handlers
from .sessions import default_handlers as _session_handlers

#: Every route of the API, relative to ``{base_url}qiskit-runtime``; unknown paths last.
default_handlers = [
    *_root_handlers,
    *_iam_handlers,
    *_backend_handlers,
    *_job_handlers,
    *_session_handlers,
    *_openapi_handlers,
    *_api_docs_handlers,
    (r"/v1/(.*)", UnknownEndpointHandler),
]

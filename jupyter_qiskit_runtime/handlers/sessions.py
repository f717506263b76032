"""Sessions and batches: create, details, stop accepting jobs, cancel."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from .base import RuntimeHandler

_ID = r"(?P<session_id>[A-Za-z0-9_-]+)"


class SessionsHandler(RuntimeHandler):
    """``POST /sessions``: open a session (mode ``dedicated``) or a batch (mode ``batch``)."""

    @web.authenticated
    @authorized
    def post(self) -> None:
        """Create the session from a JSON body (415 for any other media type); 201 with its
        details, and its URL in ``Location``. ``max_ttl`` and ``interactive_ttl`` over
        ``MAX_TTL_SECONDS`` are a 400."""
        created = self.runtime.create_session(self.owner, self.json_body())
        self.set_header("Location", url_path_join(self.request.path, created["id"]))
        self.write_json(created, status=201)


class SessionHandler(RuntimeHandler):
    """``GET /sessions/{id}`` reads a session; ``PATCH`` stops it accepting jobs."""

    @web.authenticated
    @authorized
    def get(self, session_id: str) -> None:
        """The session's details, as ``Session.details()`` reads them."""
        self.write_json(self.runtime.session(self.owner, session_id))

    @web.authenticated
    @authorized
    def patch(self, session_id: str) -> None:
        """``{"accepting_jobs": false}`` (JSON; 415 otherwise): take no more jobs; close once its
        jobs are done."""
        self.runtime.update_session(self.owner, session_id, self.json_body())
        self.write_no_content()


class SessionCloseHandler(RuntimeHandler):
    """``DELETE /sessions/{id}/close``: close now and cancel the session's pending jobs."""

    @web.authenticated
    @authorized
    def delete(self, session_id: str) -> None:
        """Cancel the session (204)."""
        self.runtime.cancel_session(self.owner, session_id)
        self.write_no_content()


default_handlers = [
    (r"/v1/sessions", SessionsHandler),
    (rf"/v1/sessions/{_ID}", SessionHandler),
    (rf"/v1/sessions/{_ID}/close", SessionCloseHandler),
]

"""The base of every REST handler: authentication, the error shape, and JSON bodies.

Domain exceptions map to HTTP statuses here and nowhere else. Errors are answered in the shape the
official client reads, ``{"error": {"message", "code"}}`` (with Jupyter's ``message`` beside it).
A body is read only with the media type its endpoint takes (``json_body``: 415 otherwise); a
method an endpoint does not take is a 405 whose ``Allow`` header lists the ones it does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from http.client import responses
from typing import Any, TypeVar

from jupyter_server.auth import User
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..runtime import errors
from ..runtime.qiskit_runtime import QiskitRuntime
from ..runtime.tokens import ACCESS_TOKEN, API_KEY, TokenIdentity, TokenIssuer

#: HTTP status for each domain error; the most specific class listed wins.
STATUS_BY_ERROR: dict[type[errors.RuntimeServiceError], int] = {
    errors.PayloadTooLargeError: 413,
    errors.UnsupportedMediaTypeError: 415,
    errors.InvalidRequestError: 400,
    errors.NotAuthorizedError: 401,
    errors.NotFoundError: 404,
    errors.InvalidStateError: 409,
    errors.QueueLimitError: 429,
    errors.WaitLimitError: 429,
    errors.ServiceUnavailableError: 503,
    errors.StoreUnavailableError: 503,
}

#: The media type of every JSON request body; the client sends exactly this.
JSON_MEDIA_TYPE = "application/json"
#: The character sets a JSON body may declare: JSON is UTF-8 (RFC 8259).
JSON_CHARSETS = ("utf-8", "utf8")

#: The resource name Jupyter's authorizer sees for every endpoint of this API.
AUTH_RESOURCE = "qiskit_runtime"

T = TypeVar("T")


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """A ``Content-Type`` header's media type and parameters, lower-cased (``("", {})`` for
    none)."""
    kind, *params = (header or "").split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), parsed


#: The ``Prefer`` preference (RFC 7240) that asks for a completed job's result in the answer.
INLINE_RESULT = "inline-result"


def preferences(header: str | None) -> dict[str, str]:
    """The preferences of a ``Prefer`` header (RFC 7240), names lower-cased: ``wait=0.35,
    inline-result`` is ``{"wait": "0.35", "inline-result": ""}``. Parameters are ignored."""
    found: dict[str, str] = {}
    for item in (header or "").split(","):
        name, _, value = item.split(";")[0].partition("=")
        if name.strip():
            found.setdefault(name.strip().lower(), value.strip().strip('"'))
    return found


def preferred_wait(prefs: dict[str, str]) -> float:
    """The seconds of a ``wait`` preference; 0 when absent or not a number of seconds (a
    preference the server cannot honour is ignored, as RFC 7240 says)."""
    try:
        seconds = float(prefs.get("wait", "0"))
    except ValueError:
        return 0.0
    return seconds if 0 < seconds < float("inf") else 0.0


def status_for(error: errors.RuntimeServiceError) -> int:
    """The HTTP status for a domain error."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


class RuntimeHandler(ExtensionHandlerMixin, APIHandler):
    """Base handler of the Qiskit Runtime API."""

    auth_resource = AUTH_RESOURCE

    def initialize(
        self, name: str, runtime: QiskitRuntime, tokens: TokenIssuer, shared_owner: str | None
    ) -> None:
        """Receive the long-lived objects built by the extension.

        ``shared_owner`` is set when the server's credentials identify no user (Jupyter's own
        token and password providers make up a random user per request): everything then
        belongs to that one owner, the server's user. Otherwise jobs belong to the username.
        """
        super().initialize(name=name)
        self.runtime = runtime
        self.tokens = tokens
        self.shared_owner = shared_owner
        self._long_poll: asyncio.Future[Any] | None = None
        self._client_gone = False

    async def prepare(self) -> None:  # type: ignore[override]
        """Authenticate by a credential this extension issued, else by Jupyter's own means.

        ``Bearer`` may carry one of our access tokens. The client falls back to
        ``Authorization: apikey <key>`` when it cannot get one: that key is either a runtime API
        key of ours or a Jupyter credential, which is then handed to Jupyter as a token.
        """
        scheme, _, credential = self.request.headers.get("Authorization", "").partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        identity = None
        if scheme == "bearer":
            identity = self.tokens.verify(credential, ACCESS_TOKEN)
        elif scheme == "apikey" and credential:
            identity = self.tokens.verify(credential, API_KEY)
            if identity is None:
                self.request.headers["Authorization"] = f"token {credential}"
        if identity is None:
            await super().prepare()
        else:
            self.authenticate_as(identity)

    def authenticate_as(self, identity: TokenIdentity) -> None:
        """Accept the request as ``identity``'s, with the checks Jupyter makes for a token."""
        if not self.check_host():
            raise web.HTTPError(403)
        user = User(
            username=identity.username, name=identity.name, display_name=identity.display_name
        )
        self.current_user = self._jupyter_current_user = user
        self._token_authenticated = True
        self.set_cors_headers()
        if not self.check_origin():
            raise web.HTTPError(404)

    @property
    def owner(self) -> str:
        """The username that owns what this request creates or reads."""
        return self.shared_owner or str(self.current_user.username)

    def identity(self) -> TokenIdentity:
        """The owner, as the credentials this extension issues name it."""
        user = self.current_user
        return TokenIdentity(self.owner, str(user.name), str(user.display_name))

    async def long_poll(self, waiting: Coroutine[Any, Any, T]) -> T | None:
        """Await a long wait; ``None`` if the client closed the connection first (the wait is
        given up then, so that it does not hold a waiter until its timeout)."""
        self._long_poll = asyncio.ensure_future(waiting)
        try:
            return await self._long_poll
        except asyncio.CancelledError:
            if self._client_gone:
                return None
            raise
        finally:
            self._long_poll = None

    def on_connection_close(self) -> None:
        """Give up the request's long wait, if it has one: nobody will read the answer."""
        self._client_gone = True
        if self._long_poll is not None:
            self._long_poll.cancel()
        super().on_connection_close()

    def json_body(self) -> bytes:
        """The request body, if its ``Content-Type`` is ``application/json`` (UTF-8, if it names
        a charset); ``UnsupportedMediaTypeError`` (415) naming the expected type otherwise."""
        header = self.request.headers.get("Content-Type")
        kind, params = media_type(header)
        if kind != JSON_MEDIA_TYPE:
            sent = f"'{header}'" if header else "none"
            raise errors.UnsupportedMediaTypeError(
                f"This endpoint reads a JSON body: send it with 'Content-Type: {JSON_MEDIA_TYPE}'"
                f" (the Content-Type sent was {sent})."
            )
        charset = params.get("charset", "utf-8")
        if charset not in JSON_CHARSETS:
            raise errors.UnsupportedMediaTypeError(
                f"The request body must be JSON encoded in UTF-8, not in '{charset}': send it "
                f"with 'Content-Type: {JSON_MEDIA_TYPE}'."
            )
        return self.request.body

    def allowed_methods(self) -> list[str]:
        """The HTTP methods this handler implements, for a 405's ``Allow`` header."""
        unimplemented = web.RequestHandler.get  # Tornado's placeholder of every method
        return [
            method
            for method in self.SUPPORTED_METHODS
            if getattr(type(self), method.lower(), unimplemented) is not unimplemented
        ]

    def _preference_applied(self, prefs: dict[str, str], answer: dict[str, Any]) -> None:
        """Say in ``Preference-Applied`` (RFC 7240) which ``Prefer`` preferences the answer
        honoured: ``wait`` when it carries a final state, ``inline-result`` when its result."""
        applied = []
        if "wait" in prefs and "state" in answer and "status" in answer:
            applied.append(f"wait={prefs['wait']}")
        if INLINE_RESULT in prefs and "result_inline" in answer:
            applied.append(INLINE_RESULT)
        if applied:
            self.set_header("Preference-Applied", ", ".join(applied))

    def write_json(self, data: Any, status: int = 200) -> None:
        """Answer with a JSON document."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_no_content(self) -> None:
        """Answer 204 with no body."""
        self.set_status(204)
        self.finish()

    def write_text(self, text: str) -> None:
        """Answer with plain text, in UTF-8 (anything that is not Unicode, as a backslash
        escape: no text a job stored may make its answer fail)."""
        # APIHandler.finish sets the content type itself; tell it which.
        body = text.encode("utf-8", "backslashreplace")
        self.finish(body, set_content_type="text/plain; charset=utf-8")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Log a client's mistake as one line; a failure of the job store, and anything else,
        with its traceback."""
        if isinstance(value, errors.StoreUnavailableError):
            # The client is told only that the store is unavailable; the server log has why.
            self.log.error(
                "%s %s: the job store failed: %r",
                self.request.method,
                self.request.path,
                value.__cause__,
                exc_info=value,
            )
        elif isinstance(value, errors.RuntimeServiceError):
            self.log.info("%s %s: %s", self.request.method, self.request.path, value.message)
        else:
            super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write ``{"error": {"message", "code"}}``, the shape the official client reads."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        code = status_code
        if isinstance(exc, errors.RuntimeServiceError):
            status_code, code, message = status_for(exc), exc.code, exc.message
            self.set_status(status_code)
        elif isinstance(exc, web.HTTPError) and status_code == 405:
            allowed = self.allowed_methods()
            self.set_header("Allow", ", ".join(allowed))
            message = (
                f"This endpoint does not take {self.request.method}; it takes {', '.join(allowed)}."
            )
        elif isinstance(exc, web.HTTPError):
            message = exc.log_message or responses.get(status_code, "Error")
        else:
            message = "Internal server error; the server log has the details."
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"message": message, "code": code}, "message": message}))

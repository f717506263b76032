"""Domain exceptions of the runtime.

The runtime raises these; the REST layer maps each kind to one HTTP status in a single place
(``handlers.base``). Every message is written for the person who reads it in the client.
"""

from __future__ import annotations


class RuntimeServiceError(Exception):
    """Base class of every error the runtime reports to a client."""

    #: A stable machine-readable code, sent as ``error.code``.
    code: int = 1000

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(RuntimeServiceError):
    """The request is malformed: bad JSON, a missing or wrong-typed field, an unknown value."""

    code = 1400


class PayloadTooLargeError(InvalidRequestError):
    """The request body is larger than the configured limit."""

    code = 1413


class UnsupportedMediaTypeError(InvalidRequestError):
    """The request body is not of the media type (or character set) the endpoint reads: JSON in
    UTF-8, or a form for the token exchange."""

    code = 1415


class NotFoundError(RuntimeServiceError):
    """A named thing does not exist (or belongs to someone else, which is reported the same)."""

    code = 1404


class BackendNotFoundError(NotFoundError):
    """No backend of that name exists in the catalog."""

    code = 1211


class JobNotFoundError(NotFoundError):
    """No job of that id exists for this user."""

    code = 1217


class ProgramNotFoundError(NotFoundError):
    """The program id is not one this server runs."""

    code = 1212


class InvalidStateError(RuntimeServiceError):
    """The operation does not apply in the job's current state (e.g. cancelling a finished job)."""

    code = 1409


class QueueLimitError(RuntimeServiceError):
    """The user already has as many unfinished jobs as the server allows."""

    code = 1429


class NotAuthorizedError(RuntimeServiceError):
    """A credential was missing or not accepted."""

    code = 1401


class ServiceUnavailableError(RuntimeServiceError):
    """The runtime cannot serve the request now: it is shutting down and takes no new work."""

    code = 1503


class StoreUnavailableError(ServiceUnavailableError):
    """The job store (the SQLite database) failed to read or write: a full or read-only disk, a
    lost network file system, a damaged file. The client is told that the store is unavailable;
    the database's own error is the exception's ``__cause__``, for the server log."""

    code = 1507


class WaitLimitError(RuntimeServiceError):
    """A user, or the server, already has as many requests waiting for job changes as allowed."""

    code = 1430

"""The IAM-compatible endpoints: the token exchange and runtime API keys."""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from tornado import web

from ..runtime.errors import InvalidRequestError, NotAuthorizedError, UnsupportedMediaTypeError
from ..runtime.tokens import API_KEY
from .base import RuntimeHandler, media_type

#: The grant type IBM Cloud IAM uses for an API key.
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
#: The media type of the token request, a form, as IBM Cloud IAM takes it (and the client sends).
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
#: The media types whose fields Tornado reads as form fields.
FORM_MEDIA_TYPES = (FORM_MEDIA_TYPE, "multipart/form-data")


class IAMTokenHandler(RuntimeHandler):
    """``POST /iam/identity/token``: trade a Jupyter credential for a short-lived bearer token.

    Point the client's ``IAM_URL`` at ``{server}{base_url}qiskit-runtime/iam`` and pass the Jupyter
    token as the client's API key. The key travels in the form body, so cookies play no part:
    only a key that authenticates on its own gets a token.
    """

    def check_xsrf_cookie(self) -> None:
        """No cookie authenticates this endpoint, so there is no cross-site request to forge."""

    async def prepare(self) -> None:  # type: ignore[override]
        """Identify the form's API key: a runtime API key of ours, or a Jupyter credential.

        A Jupyter credential is presented to Jupyter as a token before Jupyter identifies the
        user: identity providers may look a request's user up only once (JupyterHub's caches it).
        """
        apikey = self.get_body_argument("apikey", "").strip()
        identity = self.tokens.verify(apikey, API_KEY) if apikey else None
        if identity is not None:
            self.authenticate_as(identity)
            return
        if apikey:
            self.request.headers["Authorization"] = f"token {apikey}"
        else:
            self.request.headers.pop("Authorization", None)
        await super().prepare()

    @allow_unauthenticated
    async def post(self) -> None:
        """Answer as IBM Cloud IAM does: a JWT ``access_token`` with ``exp`` and ``iat``.

        The request is a form (``Content-Type: application/x-www-form-urlencoded``, as IBM
        Cloud IAM takes it); any other media type is a 415 that names it.
        """
        header = self.request.headers.get("Content-Type")
        if media_type(header)[0] not in FORM_MEDIA_TYPES:
            sent = f"'{header}'" if header else "none"
            raise UnsupportedMediaTypeError(
                f"Send the token request as a form, with 'Content-Type: {FORM_MEDIA_TYPE}' (the "
                f"Content-Type sent was {sent})."
            )
        grant = self.get_body_argument("grant_type", "")
        apikey = self.get_body_argument("apikey", "").strip()
        if grant != APIKEY_GRANT or not apikey:
            raise InvalidRequestError(
                f"Send grant_type={APIKEY_GRANT} and apikey=<a Jupyter token> as a form."
            )
        user = self.current_user
        # A login cookie identifies a user too, but only a key that works on its own counts.
        if user is None or not self.identity_provider.is_token_authenticated(self):
            raise NotAuthorizedError("The API key is not a token this Jupyter server accepts.")
        self.write_json(self.tokens.issue(self.identity()))


class ApiKeyHandler(RuntimeHandler):
    """``POST /iam/apikeys``: a runtime API key for the authenticated user.

    The key grants this API only, not the rest of the Jupyter server; ``connect()`` gives it to
    the client in place of the Jupyter token.
    """

    @web.authenticated
    @authorized
    def post(self) -> None:
        """Issue an API key (201)."""
        self.write_json(
            {"apikey": self.tokens.issue_api_key(self.identity()), "owner": self.owner}, status=201
        )


default_handlers = [
    (r"/iam/identity/token", IAMTokenHandler),
    (r"/iam/apikeys", ApiKeyHandler),
]

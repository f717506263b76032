"""A test identity provider with two users, each known by a token, as JupyterHub maps API tokens."""

from __future__ import annotations

from jupyter_server.auth import IdentityProvider, User
from tornado import web

#: token -> username
TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class TwoUserIdentityProvider(IdentityProvider):
    """Authenticates ``Authorization: token <t>`` for the tokens in ``TOKENS``."""

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        """The user whose token the request carries, or ``None``.

        Like JupyterHub's provider, it identifies a request once and caches the answer on it.
        """
        if not hasattr(handler, "_two_user_cached"):
            handler._two_user_cached = self._identify(handler)  # type: ignore[attr-defined]
        return handler._two_user_cached  # type: ignore[attr-defined,no-any-return]

    def _identify(self, handler: web.RequestHandler) -> User | None:
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        username = TOKENS.get(token.strip()) if scheme.lower() in ("token", "bearer") else None
        if username is None:
            return None
        handler._token_authenticated = True  # type: ignore[attr-defined]
        return User(username)

"""Credentials this extension issues: runtime API keys and short-lived access tokens.

The official client trades its API key for a bearer token at ``{IAM_URL}/identity/token`` and reads
a JWT ``access_token`` with ``exp`` and ``iat``. This server answers that exchange, for a Jupyter
credential or for one of its own *runtime API keys*. An API key grants this API and nothing else
of the Jupyter server (no kernels, files or terminals), so ``connect()`` hands the client an API
key rather than the Jupyter token: whatever the client does with its key, the Jupyter token stays
out of it.

Both are HS256 JWTs signed with a key derived from Jupyter's cookie secret, so they stay valid
across a server restart exactly as long as Jupyter's own login cookies do. Access tokens expire;
API keys last as long as that secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import jwt

#: The ``aud`` claim that marks a token as ours.
AUDIENCE = "jupyter-qiskit-runtime"

#: The two kinds of credential, in the ``kind`` claim.
ACCESS_TOKEN, API_KEY = "access", "apikey"


@dataclass(frozen=True)
class TokenIdentity:
    """The user a token was issued to."""

    username: str
    name: str
    display_name: str


class TokenIssuer:
    """Issues and verifies the bearer tokens."""

    def __init__(self, secret: bytes, lifetime_seconds: int = 3600) -> None:
        purpose = b"jupyter-qiskit-runtime bearer tokens"
        self._key = hmac.new(secret, purpose, hashlib.sha256).digest()
        self.lifetime_seconds = lifetime_seconds

    def _encode(self, identity: TokenIdentity, kind: str, **claims: Any) -> str:
        claims.update(
            sub=identity.username,
            name=identity.name,
            display_name=identity.display_name,
            aud=AUDIENCE,
            kind=kind,
            iat=int(time.time()),
        )
        return jwt.encode(claims, self._key, algorithm="HS256")

    def issue_api_key(self, identity: TokenIdentity) -> str:
        """A runtime API key for ``identity``: it grants this API only, and does not expire."""
        return self._encode(identity, API_KEY)

    def issue(self, identity: TokenIdentity) -> dict[str, Any]:
        """An access token response in the shape of IBM Cloud IAM's ``/identity/token``."""
        expires = int(time.time()) + self.lifetime_seconds
        return {
            "access_token": self._encode(identity, ACCESS_TOKEN, exp=expires),
            "refresh_token": "not_supported",
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
            "expiration": expires,
            "scope": "ibm openid",
        }

    def verify(self, token: str, kind: str) -> TokenIdentity | None:
        """The identity in a valid credential of ours of that ``kind``; ``None`` otherwise."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], audience=AUDIENCE)
        except jwt.PyJWTError:
            return None
        if claims.get("kind") != kind:
            return None
        return TokenIdentity(
            username=str(claims["sub"]),
            name=str(claims.get("name", claims["sub"])),
            display_name=str(claims.get("display_name", claims["sub"])),
        )

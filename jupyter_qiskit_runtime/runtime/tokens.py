"""Short-lived bearer tokens traded for a Jupyter credential, in the shape IBM Cloud IAM issues.

The official client trades its API key for a bearer token at ``{IAM_URL}/identity/token`` and reads
a JWT ``access_token`` with ``exp`` and ``iat``. This server answers that exchange for a Jupyter
credential, so an unmodified client can use a Jupyter token as its API key. Tokens are HS256 JWTs
signed with a key derived from Jupyter's cookie secret, so they outlive a server restart exactly as
long as Jupyter's own login cookies do.
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

    def issue(self, identity: TokenIdentity) -> dict[str, Any]:
        """A token response in the shape of IBM Cloud IAM's ``/identity/token``."""
        now = int(time.time())
        expires = now + self.lifetime_seconds
        claims = {
            "sub": identity.username,
            "name": identity.name,
            "display_name": identity.display_name,
            "aud": AUDIENCE,
            "iat": now,
            "exp": expires,
        }
        return {
            "access_token": jwt.encode(claims, self._key, algorithm="HS256"),
            "refresh_token": "not_supported",
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
            "expiration": expires,
            "scope": "ibm openid",
        }

    def verify(self, token: str) -> TokenIdentity | None:
        """The identity in a valid, unexpired token of ours; ``None`` for anything else."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], audience=AUDIENCE)
        except jwt.PyJWTError:
            return None
        return TokenIdentity(
            username=str(claims["sub"]),
            name=str(claims.get("name", claims["sub"])),
            display_name=str(claims.get("display_name", claims["sub"])),
        )

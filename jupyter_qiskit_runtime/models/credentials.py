"""Credentials: the IAM-compatible token exchange and runtime API keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import SPACE_CLASS, WireModel

#: What the token exchange's ``apikey`` must hold: a character the server does not drop as a
#: space (``SPACE_CLASS``: white space, and the control characters Tornado reads as spaces).
API_KEY_PATTERN = f"[^{SPACE_CLASS}]"


class TokenRequest(WireModel):
    """``POST /iam/identity/token``, a form (``application/x-www-form-urlencoded``)."""

    grant_type: Literal["urn:ibm:params:oauth:grant-type:apikey"]
    apikey: str = Field(
        pattern=API_KEY_PATTERN,
        description="A runtime API key, or a Jupyter token: it has a character other than a "
        "space or a control character (control characters in a form read as spaces, and spaces "
        "around the key are dropped).",
    )


class TokenResponse(WireModel):
    """A bearer token, as IBM Cloud IAM answers."""

    access_token: str = Field(description="An HS256 JWT; send it as ``Authorization: Bearer``.")
    refresh_token: str
    token_type: str = Field(description="``Bearer``.")
    expires_in: int = Field(description="Lifetime in seconds.")
    expiration: int = Field(description="Expiry, in seconds since the epoch.")
    scope: str | None = None


class ApiKeyResponse(WireModel):
    """``POST /iam/apikeys``: a runtime API key that grants this API only, and does not expire."""

    apikey: str
    owner: str = Field(description="The user the key acts as.")

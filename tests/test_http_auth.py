"""Authentication through the real HTTP layer: Jupyter credentials, apikey, and the IAM exchange."""

from __future__ import annotations

import base64
import getpass
import json
import urllib.parse
from typing import Any

import jwt

from .http_helpers import (
    API,
    APIKEY_GRANT,
    FINAL_STATES,
    IAM,
    NO_SUCH_JOB,
    bell_job,
    decode,
    get_json,
    slow_job,
    submit,
    wait_for_state,
)

# -- authentication ---------------------------------------------------------------------------

#: Every endpoint of the API, with a method and a body that would be valid if authenticated.
ENDPOINTS: list[tuple[str, tuple[str, ...]]] = [
    ("GET", API),
    ("GET", (*API, "instances", "usage")),
    ("GET", (*API, "backends")),
    ("GET", (*API, "backends", "fake_manila@aer", "configuration")),
    ("GET", (*API, "backends", "fake_manila@aer", "properties")),
    ("GET", (*API, "backends", "fake_manila@aer", "status")),
    ("GET", (*API, "jobs")),
    ("POST", (*API, "jobs")),
    ("GET", (*API, "jobs", NO_SUCH_JOB)),
    ("GET", (*API, "jobs", NO_SUCH_JOB, "results")),
    ("POST", (*API, "jobs", NO_SUCH_JOB, "cancel")),
    ("GET", (*API, "jobs", NO_SUCH_JOB, "logs")),
    ("GET", (*API, "jobs", NO_SUCH_JOB, "metrics")),
]


async def _codes(anon_fetch, headers: dict[str, str], job: str | None = None) -> dict[str, int]:
    """The status of every endpoint requested with ``headers`` (``job`` is the POST body,
    a valid Bell job unless given)."""
    codes = {}
    for method, parts in ENDPOINTS:
        body = (job or json.dumps(bell_job())) if method == "POST" else None
        response = await anon_fetch(*parts, method=method, body=body, headers=headers)
        codes[f"{method} {'/'.join(parts)}"] = response.code
        if response.code == 403:
            assert decode(response)["error"]["code"] == 403
    return codes


#: What ``_codes(..., job="{}")`` answers once authenticated: each endpoint's own verdict.
AUTHENTICATED_CODES = {
    f"{method} {'/'.join(parts)}": (
        404 if NO_SUCH_JOB in parts else 400 if (method, parts) == ("POST", (*API, "jobs")) else 200
    )
    for method, parts in ENDPOINTS
}


async def test_every_endpoint_refuses_requests_without_credentials(anon_fetch, jp_fetch) -> None:
    """Without credentials, or with a wrong token, every endpoint answers 403 and nothing runs."""
    for headers in ({}, {"Authorization": "token wrong-token"}):
        codes = await _codes(anon_fetch, headers)
        assert codes == dict.fromkeys(codes, 403)
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_apikey_authorization_is_the_jupyter_token(anon_fetch, jp_serverapp) -> None:
    """``Authorization: apikey <jupyter token>`` (the client's fallback) is accepted; a wrong key
    is refused."""
    token = jp_serverapp.identity_provider.token
    codes = await _codes(anon_fetch, {"Authorization": f"apikey {token}"}, job="{}")
    assert codes == AUTHENTICATED_CODES
    codes = await _codes(anon_fetch, {"Authorization": "apikey nope"}, job="{}")
    assert codes == dict.fromkeys(codes, 403)


def _iam_form(apikey: str, grant: str = APIKEY_GRANT) -> dict[str, Any]:
    return {
        "method": "POST",
        "body": urllib.parse.urlencode({"grant_type": grant, "apikey": apikey}),
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


async def test_iam_exchange_issues_a_bearer_token_for_the_jupyter_token(
    anon_fetch, jp_fetch, jp_serverapp
) -> None:
    """The IAM-compatible endpoint trades the Jupyter token (no Authorization header) for a JWT
    with ``exp``/``iat``; that JWT then works as ``Bearer`` for the same owner's jobs."""
    token = jp_serverapp.identity_provider.token
    response = await anon_fetch(*IAM, **_iam_form(token))
    assert response.code == 200, response.body
    issued = decode(response)
    assert issued["token_type"] == "Bearer"
    access = issued["access_token"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == issued["expires_in"] == 3600
    assert claims["exp"] == issued["expiration"]
    assert claims["sub"] == getpass.getuser()

    bearer = {"Authorization": f"Bearer {access}"}
    # Every endpoint lets the request through to its own checks (an empty job body is a 400).
    codes = await _codes(anon_fetch, bearer, job="{}")
    assert codes == AUTHENTICATED_CODES

    # The bearer token acts for the owner of the jobs submitted with the Jupyter token.
    job_id = await submit(jp_fetch, slow_job())
    response = await anon_fetch(*API, "jobs", job_id, headers=bearer)
    assert response.code == 200
    assert decode(response)["id"] == job_id
    response = await anon_fetch(
        *API, "jobs", job_id, "cancel", method="POST", body="", headers=bearer
    )
    assert response.code == 204
    assert (await wait_for_state(jp_fetch, job_id, FINAL_STATES))["state"]["status"] == "Cancelled"


async def test_iam_exchange_refuses_bad_keys_and_grants(anon_fetch, jp_serverapp) -> None:
    """A wrong API key is 401, a wrong or missing grant type or key is 400, each with a message."""
    token = jp_serverapp.identity_provider.token
    response = await anon_fetch(*IAM, **_iam_form("not-the-token"))
    assert response.code == 401
    assert "not a token this Jupyter server accepts" in decode(response)["error"]["message"]
    for form in (_iam_form(token, grant="password"), _iam_form(""), _iam_form(token, grant="")):
        response = await anon_fetch(*IAM, **form)
        assert response.code == 400
        assert APIKEY_GRANT in decode(response)["error"]["message"]


async def test_tampered_forged_or_expired_bearer_tokens_are_refused(
    anon_fetch, jp_serverapp
) -> None:
    """A JWT whose claims were altered, one signed with another key, or an expired one is 403."""
    from jupyter_qiskit_runtime.runtime.tokens import TokenIdentity, TokenIssuer

    token = jp_serverapp.identity_provider.token
    access = decode(await anon_fetch(*IAM, **_iam_form(token)))["access_token"]
    header, _, signature = access.split(".")
    claims = jwt.decode(access, options={"verify_signature": False})
    altered = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "mallory"}).encode())
    tampered = f"{header}.{altered.decode().rstrip('=')}.{signature}"
    forged = jwt.encode(claims, "a key that is not this server's key", algorithm="HS256")
    identity = TokenIdentity(claims["sub"], claims["name"], claims["display_name"])
    expired = TokenIssuer(jp_serverapp.cookie_secret, -120).issue(identity)["access_token"]
    genuine = TokenIssuer(jp_serverapp.cookie_secret, 120).issue(identity)["access_token"]

    for bad in (tampered, forged, expired, "not.a.jwt"):
        response = await anon_fetch(*API, "jobs", headers={"Authorization": f"Bearer {bad}"})
        assert response.code == 403, bad
    # The same issuer with an unexpired lifetime is accepted: the refusals above are not a fluke.
    response = await anon_fetch(*API, "jobs", headers={"Authorization": f"Bearer {genuine}"})
    assert response.code == 200


async def test_runtime_api_key_grants_this_api_and_the_token_exchange(
    anon_fetch, jp_fetch, jp_serverapp
) -> None:
    """``POST iam/apikeys`` (Jupyter-authenticated) issues a runtime API key. The key works as
    ``apikey`` on every endpoint and at the token exchange, but is not a bearer token, and it is
    no Jupyter credential: the rest of the Jupyter server refuses it."""
    assert (
        await anon_fetch("qiskit-runtime", "iam", "apikeys", method="POST", body="")
    ).code == 403
    issued = decode(await jp_fetch("qiskit-runtime", "iam", "apikeys", method="POST", body=""))
    key = issued["apikey"]
    assert issued["owner"] == getpass.getuser()
    assert key != jp_serverapp.identity_provider.token

    codes = await _codes(anon_fetch, {"Authorization": f"apikey {key}"}, job="{}")
    assert codes == AUTHENTICATED_CODES
    exchanged = await anon_fetch(*IAM, **_iam_form(key))
    assert exchanged.code == 200
    access = decode(exchanged)["access_token"]
    assert (await anon_fetch(*API, headers={"Authorization": f"Bearer {access}"})).code == 200

    as_bearer = await _codes(anon_fetch, {"Authorization": f"Bearer {key}"})
    assert as_bearer == dict.fromkeys(as_bearer, 403)
    for scheme in ("token", "Bearer"):
        jupyter_api = await anon_fetch(
            "api", "contents", headers={"Authorization": f"{scheme} {key}"}
        )
        assert jupyter_api.code == 403
    # An access token is no API key: it cannot be traded for more access tokens.
    assert (await anon_fetch(*IAM, **_iam_form(access))).code == 401

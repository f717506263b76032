"""Hardening (issue #17): input at the edges of what is valid is a clear 4xx, never a 500.

Every test goes through the real HTTP layer of an in-process server (``jp_fetch``): integers
beyond 64 bits, JSON nested too deeply, bodies of the wrong media type or encoding, tags with
control characters or surrogates, methods an endpoint does not take, a job store that cannot be
written, and what a client sees of a failed job.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from jupyter_qiskit_runtime.runtime.cursors import CURSOR_NUMBER_MAX, encode_cursor
from jupyter_qiskit_runtime.runtime.jobs import MAX_COST_SECONDS, MAX_JSON_DEPTH, MAX_TAGS
from jupyter_qiskit_runtime.runtime.listing import JOBS_OFFSET_MAX
from jupyter_qiskit_runtime.runtime.sessions import MAX_TTL_SECONDS

from .circuits import entangling_circuit, sampler_job_body
from .http_helpers import (
    API,
    FINAL_STATES,
    IAM,
    NO_SUCH_JOB,
    NOT_FOUND,
    bell_job,
    cancel,
    decode,
    get_json,
    slow_job,
    submit,
    wait_for_state,
)

MANILA = "fake_manila@aer_ideal"
#: An integer of 77 bits, as the fuzzer sent.
HUGE = 99999999999999999999999


async def _refusal(response: HTTPResponse, status: int, *fragments: str) -> dict[str, Any]:
    """Check an error answer: its status, the JSON error shape, and its message's fragments."""
    assert response.code == status, response.body
    body = decode(response)
    error = body["error"]
    assert isinstance(error["code"], int) and isinstance(error["message"], str)
    for fragment in fragments:
        assert fragment in error["message"], error["message"]
    return dict(body)


def _nested(depth: int) -> str:
    """JSON arrays nested ``depth`` deep."""
    return "[" * depth + "]" * depth


async def _session(jp_fetch: Callable[..., Any]) -> str:
    response = await jp_fetch(*API, "sessions", method="POST", body=json.dumps({"backend": MANILA}))
    assert response.code == 201
    return str(decode(response)["id"])


# -- 1. integers beyond 64 bits -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "fragment"),
    [
        (("jobs",), {"offset": str(2**63)}, f"'offset' must be between 0 and {JOBS_OFFSET_MAX}"),
        (("jobs",), {"offset": str(HUGE)}, "'offset'"),
        (("jobs", "changes"), {"since": encode_cursor("change", 2**63)}, "'since'"),
        (("jobs", "changes"), {"since": encode_cursor("change", CURSOR_NUMBER_MAX + 1)}, "'since'"),
        (("workloads",), {"next": encode_cursor("seq", 2**63)}, "'next'"),
        (("workloads",), {"previous": encode_cursor("seq", HUGE)}, "'previous'"),
    ],
    ids=["offset-2**63", "offset-huge", "since", "since-19-digits", "next", "previous"],
)
async def test_query_integers_beyond_64_bits_are_a_400_naming_the_argument(
    jp_fetch, path, query, fragment
) -> None:
    """An offset or a cursor's number past SQLite's integers is a 400 that names the argument."""
    response = await jp_fetch(*API, *path, params=query, raise_error=False)
    await _refusal(response, 400, fragment)


async def test_the_largest_offsets_and_cursors_are_accepted(jp_fetch) -> None:
    """The bounds themselves are valid: an empty page, not an error."""
    page = await get_json(jp_fetch, "jobs", params={"offset": str(JOBS_OFFSET_MAX)})
    assert page["jobs"] == [] and page["offset"] == JOBS_OFFSET_MAX
    since = encode_cursor("change", CURSOR_NUMBER_MAX)
    assert (await get_json(jp_fetch, "jobs", "changes", params={"since": since}))["jobs"] == []
    after = encode_cursor("seq", CURSOR_NUMBER_MAX)
    assert (await get_json(jp_fetch, "workloads", params={"next": after}))["workloads"] == []


@pytest.mark.parametrize("field", ["interactive_ttl", "max_ttl"])
async def test_session_times_beyond_the_bound_are_a_400_naming_the_field(jp_fetch, field) -> None:
    """A session's time limit over ``MAX_TTL_SECONDS`` is a 400 naming the field; the bound
    itself is accepted."""
    body = {"backend": MANILA, field: HUGE}
    response = await jp_fetch(
        *API, "sessions", method="POST", body=json.dumps(body), raise_error=False
    )
    await _refusal(response, 400, f"'{field}'", str(MAX_TTL_SECONDS))
    body = {"backend": MANILA, field: MAX_TTL_SECONDS}
    response = await jp_fetch(*API, "sessions", method="POST", body=json.dumps(body))
    assert response.code == 201 and decode(response)[field] == MAX_TTL_SECONDS


@pytest.mark.parametrize("cost", [HUGE, 2**63, MAX_COST_SECONDS + 1])
async def test_job_cost_beyond_the_bound_is_a_400_naming_the_field(jp_fetch, cost) -> None:
    """A ``cost`` over ``MAX_COST_SECONDS`` is a 400 naming the field; no job is created."""
    body = {**bell_job(), "cost": cost}
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body), raise_error=False)
    await _refusal(response, 400, "'cost'", str(MAX_COST_SECONDS))
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_integral_numbers_written_as_floats_are_integers(jp_fetch) -> None:
    """``60.0`` is an integer in JSON Schema's sense (the document's ``integer``): accepted for a
    session's times and a job's cost; a fraction, infinity or a boolean is a 400 naming the
    field."""
    body = {"backend": MANILA, "interactive_ttl": 386.0, "max_ttl": 914.0}
    created = decode(await jp_fetch(*API, "sessions", method="POST", body=json.dumps(body)))
    assert (created["interactive_ttl"], created["max_ttl"]) == (386, 914)
    for value in (0.5, 1e300, True):
        body = {"backend": MANILA, "max_ttl": value}
        response = await jp_fetch(
            *API, "sessions", method="POST", body=json.dumps(body), raise_error=False
        )
        await _refusal(response, 400, "'max_ttl'")
    for value, fragment in ((2.5, "not 2.5"), (1e300, "at most")):
        body = {**bell_job(), "cost": value}
        response = await jp_fetch(
            *API, "jobs", method="POST", body=json.dumps(body), raise_error=False
        )
        await _refusal(response, 400, "'cost'", fragment)
    body = {**bell_job(), "cost": float("inf")}  # sent as Infinity, which Python's JSON reads
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body), raise_error=False)
    await _refusal(response, 400, "'cost' must be of type int, not inf")
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


# -- 2. JSON nested too deeply --------------------------------------------------------------


def _deep_job(depth: int) -> str:
    job = json.dumps({**bell_job(), "params": {"pubs": "PLACEHOLDER"}})
    return job.replace('"PLACEHOLDER"', _nested(depth))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", ("jobs",), lambda: _deep_job(990)),
        ("POST", ("jobs",), lambda: _nested(100_000)),
        ("POST", ("sessions",), lambda: '{"backend": ' + _nested(990) + "}"),
        ("PATCH", ("sessions", "SESSION"), lambda: '{"accepting_jobs": ' + _nested(990) + "}"),
        ("PUT", ("jobs", NO_SUCH_JOB, "tags"), lambda: '{"tags": ' + _nested(990) + "}"),
        ("PUT", ("jobs", NO_SUCH_JOB, "tags"), lambda: _nested(MAX_JSON_DEPTH + 1)),
    ],
    ids=["job", "job-100000", "session", "session-patch", "tags", "tags-just-over"],
)
async def test_json_nested_too_deeply_is_a_400(jp_fetch, method, path, body) -> None:
    """A body nested deeper than ``MAX_JSON_DEPTH`` is a 400 that says so, on every endpoint
    that reads JSON; the server goes on answering."""
    if "SESSION" in path:
        session_id = await _session(jp_fetch)
        path = tuple(session_id if p == "SESSION" else p for p in path)
    response = await jp_fetch(*API, *path, method=method, body=body(), raise_error=False)
    await _refusal(response, 400, "nested too deeply", str(MAX_JSON_DEPTH))
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_json_nested_exactly_to_the_limit_is_read(jp_fetch) -> None:
    """A body nested exactly ``MAX_JSON_DEPTH`` deep is read: this one then names no job."""
    body = '{"tags": [], "x": ' + _nested(MAX_JSON_DEPTH - 1) + "}"
    response = await jp_fetch(
        *API, "jobs", NO_SUCH_JOB, "tags", method="PUT", body=body, raise_error=False
    )
    await _refusal(response, 404, NOT_FOUND)


async def test_params_that_nest_deeply_inside_strings_are_a_400(jp_fetch) -> None:
    """The client's decoder reads a BindingsArray's keys as JSON again: keys nested without
    bound inside a body of normal depth are a 400 from the params check, not a 500."""
    bindings = {
        "__type__": "BindingsArray",
        "__value__": {"shape": [], "data": {_nested(5000): []}},
    }
    body = {**bell_job(), "params": {"pubs": [[bindings]], "version": 2}}
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body), raise_error=False)
    await _refusal(response, 400, "params could not be decoded", "nested too deeply")


# -- 3. media types and encodings -----------------------------------------------------------


async def _raw_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST with exactly these headers (Tornado's client adds a form Content-Type when none is
    given); the status and the decoded JSON body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(content)


WRONG_MEDIA_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "text/json",
    "application/json-patch+json",
]


@pytest.mark.parametrize("content_type", WRONG_MEDIA_TYPES)
async def test_job_body_of_another_media_type_is_a_415_naming_json(jp_fetch, content_type) -> None:
    """A valid job body sent as anything but ``application/json`` is a 415 that names the
    expected type and the one sent; no job is created."""
    response = await jp_fetch(
        *API, "jobs", method="POST", body=json.dumps(bell_job()),
        headers={"Content-Type": content_type}, raise_error=False,
    )  # fmt: skip
    body = await _refusal(response, 415, "'Content-Type: application/json'", content_type)
    assert body["error"]["code"] == 1415
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_job_body_labelled_multipart_is_a_400_from_tornado(jp_fetch) -> None:
    """Tornado parses a multipart body before any handler runs: JSON labelled multipart is a
    400 that says the multipart body is invalid (still a client error that names the problem)."""
    response = await jp_fetch(
        *API, "jobs", method="POST", body=json.dumps(bell_job()),
        headers={"Content-Type": "multipart/form-data; boundary=x"}, raise_error=False,
    )  # fmt: skip
    await _refusal(response, 400, "Invalid multipart/form-data")
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_job_body_without_content_type_is_a_415(
    jp_fetch, jp_http_port, jp_base_url, jp_serverapp
) -> None:
    """A body with no Content-Type at all is a 415 too."""
    token = jp_serverapp.identity_provider.token
    status, body = await _raw_post(
        jp_http_port,
        f"{jp_base_url}qiskit-runtime/v1/jobs",
        json.dumps(bell_job()).encode(),
        {"Authorization": f"token {token}"},
    )
    assert status == 415, body
    assert "application/json" in body["error"]["message"] and "was none" in body["error"]["message"]
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", ("jobs", NO_SUCH_JOB, "tags"), '{"tags": []}'),
        ("POST", ("sessions",), json.dumps({"backend": MANILA})),
        ("PATCH", ("sessions", NO_SUCH_JOB), '{"accepting_jobs": false}'),
    ],
    ids=["tags", "session", "session-patch"],
)
async def test_every_json_endpoint_refuses_other_media_types(jp_fetch, method, path, body) -> None:
    """Tags, sessions and session updates read JSON only, too."""
    response = await jp_fetch(
        *API, *path, method=method, body=body, headers={"Content-Type": "text/plain"},
        raise_error=False,
    )  # fmt: skip
    await _refusal(response, 415, "application/json", "text/plain")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", 'Application/JSON; Charset="UTF-8"']
)
async def test_json_with_a_utf8_charset_is_accepted(jp_fetch, content_type) -> None:
    """``application/json`` with a UTF-8 charset, in any case, is read."""
    response = await jp_fetch(
        *API, "sessions", method="POST", body=json.dumps({"backend": MANILA}),
        headers={"Content-Type": content_type},
    )  # fmt: skip
    assert response.code == 201


async def test_body_not_in_utf8_is_a_400_or_a_415_when_its_charset_says_so(jp_fetch) -> None:
    """A UTF-16 body is a 400 as ``application/json`` (not UTF-8; without a byte order mark its
    ASCII reads as UTF-8 with NULs between, not JSON); declared as UTF-16 it is a 415. Latin-1
    bytes are not UTF-8 either. No job is created."""
    job = json.dumps(bell_job())
    for encoded, content_type, status, fragment in [
        (job.encode("utf-16"), "application/json", 400, "not valid UTF-8"),
        (job.encode("utf-16-le"), "application/json", 400, "not valid JSON"),
        (job.encode("utf-16"), "application/json; charset=utf-16", 415, "'utf-16'"),
        (
            json.dumps({**bell_job(), "tags": ["café"]}, ensure_ascii=False).encode("latin-1"),
            "application/json",
            400,
            "not valid UTF-8",
        ),
    ]:
        response = await jp_fetch(
            *API, "jobs", method="POST", body=encoded, headers={"Content-Type": content_type},
            raise_error=False,
        )  # fmt: skip
        await _refusal(response, status, fragment)
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_token_exchange_takes_a_form_and_refuses_json(anon_fetch, jp_serverapp) -> None:
    """``POST /iam/identity/token`` stays a form, as IBM Cloud IAM's is; JSON there is a 415
    that names the form type."""
    token = jp_serverapp.identity_provider.token
    fields = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": token}
    response = await anon_fetch(*IAM, method="POST", body=json.dumps(fields))
    await _refusal(response, 415, "application/x-www-form-urlencoded", "application/json")
    form = "&".join(f"{k}={v}" for k, v in fields.items())
    response = await anon_fetch(
        *IAM, method="POST", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )  # fmt: skip
    assert response.code == 200 and decode(response)["access_token"]


# -- 4. tags counted as sent, booleans, methods ---------------------------------------------


async def test_more_than_eight_tags_are_a_400_even_if_duplicates(jp_fetch) -> None:
    """Tags are counted as sent: nine empty tags are a 400 at submission and on update; eight
    (duplicates or not) pass the check."""
    nine = [""] * (MAX_TAGS + 1)
    response = await jp_fetch(
        *API, "jobs", method="POST", body=json.dumps({**bell_job(), "tags": nine}),
        raise_error=False,
    )  # fmt: skip
    await _refusal(response, 400, "holds 9 tags", f"at most {MAX_TAGS}")
    tags = ("jobs", NO_SUCH_JOB, "tags")
    response = await jp_fetch(
        *API, *tags, method="PUT", body=json.dumps({"tags": nine}), raise_error=False
    )
    await _refusal(response, 400, "holds 9 tags")
    response = await jp_fetch(
        *API, *tags, method="PUT", body=json.dumps({"tags": [""] * MAX_TAGS}), raise_error=False
    )
    await _refusal(response, 404, NOT_FOUND)


@pytest.mark.parametrize("path", [("workloads",), ("jobs",), ("backends",)])
@pytest.mark.parametrize("value", ["null", "", "1", "None"])
async def test_include_mocks_must_be_a_boolean(jp_fetch, path, value) -> None:
    """``include_mocks`` is ``true`` or ``false`` (any case), like every boolean argument."""
    response = await jp_fetch(*API, *path, params={"include_mocks": value}, raise_error=False)
    await _refusal(response, 400, "'include_mocks' must be 'true' or 'false'")
    assert (await jp_fetch(*API, *path, params={"include_mocks": "True"})).code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", ("jobs",), "GET, POST, OPTIONS"),
        ("PUT", ("jobs",), "GET, POST, OPTIONS"),
        ("DELETE", ("backends",), "GET, OPTIONS"),
        ("TRACE", ("jobs", NO_SUCH_JOB), "GET, DELETE, OPTIONS"),
        ("POST", ("jobs", NO_SUCH_JOB, "results"), "GET, OPTIONS"),
        ("TRACE", ("sessions", "s1"), "GET, PATCH, OPTIONS"),
    ],
)
async def test_unsupported_method_is_a_405_with_allow(jp_fetch, method, path, allowed) -> None:
    """A method an endpoint does not take is a 405 whose ``Allow`` header lists the ones it
    does, and whose message names both."""
    response = await jp_fetch(
        *API, *path, method=method, body=None if method in ("TRACE", "DELETE") else "{}",
        allow_nonstandard_methods=True, raise_error=False,
    )  # fmt: skip
    await _refusal(response, 405, f"does not take {method}", allowed)
    assert response.headers["Allow"] == allowed


# -- 5. control characters and surrogates ---------------------------------------------------

#: Tags that may not be stored, each with the character named in the refusal. A control
#: character is refused as a tag; an unpaired surrogate anywhere in a JSON body, at its place.
BAD_TAGS = [
    ("a\x00b", "U+0000", "tag at index 1"),
    ("\x1f", "U+001F", "tag at index 1"),
    ("tab\there", "U+0009", "tag at index 1"),
    ("del\x7f", "U+007F", "tag at index 1"),
    ("next-line\x85", "U+0085", "tag at index 1"),
    ("\ud800", "U+D800", "'tags[1]'"),
    ("x\udfff", "U+DFFF", "'tags[1]'"),
]


@pytest.mark.parametrize(("tag", "char", "where"), BAD_TAGS, ids=[c for _, c, _ in BAD_TAGS])
async def test_tags_with_control_characters_or_surrogates_are_a_400(
    jp_fetch, tag, char, where
) -> None:
    """Such a tag is refused, naming where it is and the character, at submission and on
    update; no job is created."""
    tags = ["fine", tag]
    response = await jp_fetch(
        *API, "jobs", method="POST", body=json.dumps({**bell_job(), "tags": tags}),
        raise_error=False,
    )  # fmt: skip
    await _refusal(response, 400, where, char)
    response = await jp_fetch(
        *API, "jobs", NO_SUCH_JOB, "tags", method="PUT", body=json.dumps({"tags": tags}),
        raise_error=False,
    )  # fmt: skip
    await _refusal(response, 400, where, char)
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_unpaired_surrogates_anywhere_in_a_body_are_a_400(jp_fetch) -> None:
    """An unpaired surrogate in any string or key of a body (here, a params key the worker
    would name in the job's logs, which could then be neither stored nor sent) is a 400 naming
    its place; a pair, one character beyond the BMP, is fine."""
    body = bell_job()
    body["params"]["odd\ud800"] = 1
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body), raise_error=False)
    await _refusal(response, 400, "U+D800", "in a key of 'params'")
    body = {"backend": MANILA, "mode": ["dedicated", {"x": "\udc00"}]}
    response = await jp_fetch(
        *API, "sessions", method="POST", body=json.dumps(body), raise_error=False
    )
    await _refusal(response, 400, "U+DC00", "'mode[1].x'")
    response = await jp_fetch(
        *API, "sessions", method="POST", body=json.dumps({"backend": MANILA, "note": "🎉"})
    )
    assert response.code == 201
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_tags_with_other_unicode_pass(jp_fetch) -> None:
    """Spaces, accents and characters beyond the BMP (a surrogate pair in JSON) are fine."""
    tags = ["a b", "café", "🎉", "\u00a0"]
    response = await jp_fetch(
        *API, "jobs", NO_SUCH_JOB, "tags", method="PUT", body=json.dumps({"tags": tags}),
        raise_error=False,
    )  # fmt: skip
    await _refusal(response, 404, NOT_FOUND)


@pytest.mark.parametrize("field", ["log_level", "runtime"])
async def test_stored_free_text_fields_refuse_control_characters(jp_fetch, field) -> None:
    """``log_level`` and ``runtime`` are stored and sent back: the same characters are a 400."""
    body = {**bell_job(), field: "INFO\x00"}
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body), raise_error=False)
    await _refusal(response, 400, f"'{field}'", "U+0000")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (("jobs",), "tags"),
        (("jobs",), "backend"),
        (("workloads",), "tags"),
        (("workloads",), "search"),
    ],
)
async def test_filters_with_control_characters_are_a_400(jp_fetch, path, name) -> None:
    """A filter holding a control character (which Tornado would turn into a space, selecting
    something else) is a 400 naming the argument."""
    response = await jp_fetch(*API, *path, params={name: "a\x00b"}, raise_error=False)
    await _refusal(response, 400, f"'{name}'", "U+0000")


# -- 6. the job store failing ---------------------------------------------------------------


def _store(jp_serverapp: Any) -> Any:
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_qiskit_runtime"]
    return app.runtime.store


async def test_unwritable_job_store_is_a_503_and_reads_go_on(
    jp_fetch, jp_serverapp, caplog
) -> None:
    """A job database that cannot be written answers 503 "job store is unavailable" for writes
    (the SQLite error only in the server log); reads still work; once writable again, all works.

    The tests run as root, which ignores file permissions, so a read-only file cannot be made
    with chmod. ``PRAGMA query_only`` makes SQLite refuse every write on the store's connection
    with the same error a read-only file gives (``attempt to write a readonly database``).
    """
    store = _store(jp_serverapp)
    existing = await submit(jp_fetch, slow_job())
    assert await cancel(jp_fetch, existing) == 204
    await wait_for_state(jp_fetch, existing, FINAL_STATES)
    # One job slot: the first runs (until cancelled), the second waits in the queue.
    running, queued = [await submit(jp_fetch, slow_job()) for _ in range(2)]
    await wait_for_state(jp_fetch, running, {"Running"})
    with store.reading() as db:
        db.execute("PRAGMA query_only = ON")
    try:
        writes = [
            ("POST", ("jobs",), json.dumps(bell_job())),
            ("POST", ("sessions",), json.dumps({"backend": MANILA})),
            ("PUT", ("jobs", existing, "tags"), '{"tags": ["x"]}'),
            ("DELETE", ("jobs", existing), None),
            ("POST", ("jobs", queued, "cancel"), ""),
        ]
        for method, path, body in writes:
            response = await jp_fetch(*API, *path, method=method, body=body, raise_error=False)
            refusal = await _refusal(response, 503, "job store is unavailable")
            assert refusal["error"]["code"] == 1507
            assert "readonly" not in refusal["error"]["message"]
        assert "attempt to write a readonly database" in caplog.text  # the server log has why
        listing = await get_json(jp_fetch, "jobs", params={"sort": "ASC"})
        assert [job["id"] for job in listing["jobs"]] == [existing, running, queued]
        assert (await get_json(jp_fetch, "jobs", existing))["state"]["status"] == "Cancelled"
        assert (await jp_fetch(*API, "jobs", existing, "logs")).code == 200
        # The refused cancel left the queued job in its queue.
        assert (await get_json(jp_fetch, "jobs", queued, "metrics"))["position_in_queue"] == 1
    finally:
        with store.reading() as db:
            db.execute("PRAGMA query_only = OFF")
    await jp_fetch(*API, "jobs", existing, "tags", method="PUT", body='{"tags": ["x"]}')
    assert (await get_json(jp_fetch, "jobs", existing))["tags"] == ["x"]
    assert (
        await jp_fetch(*API, "sessions", method="POST", body=json.dumps({"backend": MANILA}))
    ).code == 201
    for job_id in (queued, running):  # the refused cancel left the queued job queued
        assert await cancel(jp_fetch, job_id) == 204
        job = await wait_for_state(jp_fetch, job_id, FINAL_STATES)
        assert job["state"]["status"] == "Cancelled"
    job_id = await submit(jp_fetch, slow_job())
    assert await cancel(jp_fetch, job_id) == 204
    assert (await wait_for_state(jp_fetch, job_id, FINAL_STATES))["state"]["status"] == "Cancelled"


# -- 7. what a client sees of a failed job --------------------------------------------------


async def test_failed_job_shows_its_error_and_keeps_the_traceback_in_its_logs(jp_fetch) -> None:
    """A job that fails in its worker (32 entangled qubits fit no memory budget here) has its
    error as ``state.reason`` and as its results text, with no traceback and none of the
    server's paths; the traceback is in the job's logs, for its owner."""
    body = sampler_job_body("ideal_32q@aer_ideal", entangling_circuit(32))
    job_id = await submit(jp_fetch, body)
    job = await wait_for_state(jp_fetch, job_id, FINAL_STATES)
    assert job["state"]["status"] == "Failed"
    reason = job["state"]["reason"]
    assert reason.startswith("SimulationRefused: ") and "GiB" in reason
    results = (await jp_fetch(*API, "jobs", job_id, "results")).body.decode()
    assert results == reason
    assert "Traceback" not in results and "jupyter_qiskit_runtime" not in results
    logs = (await jp_fetch(*API, "jobs", job_id, "logs")).body.decode()
    assert "Traceback (most recent call last)" in logs and "SimulationRefused" in logs
    assert "jupyter_qiskit_runtime" in logs

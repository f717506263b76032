"""The job model: what a client may submit, and how a job looks on the wire."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequestError, PayloadTooLargeError
from .records import CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING, JobRecord

#: IBM's limits on a job's tags (the ``Tags`` schema of the Qiskit Runtime REST API): at most
#: ``MAX_TAGS`` items, counted as sent (before duplicates are dropped), each of at most
#: ``MAX_TAG_LENGTH`` characters, none with a control character or an unpaired surrogate.
MAX_TAGS = 8
MAX_TAG_LENGTH = 86

#: The largest ``cost`` (maximum execution time in seconds) a job may ask for: a signed 32-bit
#: integer, 68 years. Every smaller value is honoured as a wall-clock limit: a local simulation may
#: run longer than IBM's three-hour cap, so that cap is not imposed; a larger number cannot be
#: meant (and would not fit the database's 64-bit integers from 2**63 on).
MAX_COST_SECONDS = 2**31 - 1

#: How deeply arrays and objects may nest in a JSON request body (``[[1]]`` is 2 deep). The
#: client's bodies nest about 15 deep (a noise model's Kraus matrices are the deepest); the
#: limit keeps far below Python's recursion limit, which every later encoding and decoding of
#: the job's params (a job's answer, the worker's decoder) must also stay below.
MAX_JSON_DEPTH = 100

#: Characters no stored text may hold: controls (Unicode category Cc, which query arguments turn
#: into spaces, so a tag with one could never be found) and surrogates (Cs; unpaired, they
#: cannot be encoded in UTF-8, so an answer holding one breaks a client's decoding).
_FORBIDDEN_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: An unpaired surrogate, refused anywhere in a JSON body (a pair decodes to one character).
_SURROGATE = re.compile("[\ud800-\udfff]")

#: A workload's ``status`` (``GET /workloads``) for each job state.
WORKLOAD_STATUS = {
    QUEUED: "pending",
    RUNNING: "in_progress",
    COMPLETED: "completed",
    FAILED: "failed",
    CANCELLED: "canceled",
}


def _typed(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...], required: bool = False
) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidRequestError(f"The field '{name}' is required.")
        return None
    # bool is an int in Python; a JSON true is not a number of seconds.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise InvalidRequestError(
            f"The field '{name}' must be of type {names}, not {type(value).__name__}."
        )
    return value


def as_integer(value: Any) -> int | None:
    """``value`` as an integer if it is one in JSON's sense (``5``, or ``5.0``, which JSON Schema
    counts as an integer too; never ``true``); ``None`` if it is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def integer_field(body: dict[str, Any], name: str) -> int | None:
    """The optional field ``name`` as an integer (``as_integer``); a 400 naming the field and
    the value's type (or the value, for a fraction) for anything else."""
    value = body.get(name)
    if value is None:
        return None
    number = as_integer(value)
    if number is None:
        shown = value if isinstance(value, float) else type(value).__name__
        raise InvalidRequestError(f"The field '{name}' must be of type int, not {shown}.")
    return number


def forbidden_character(text: str) -> str | None:
    """The first control character (Unicode category Cc) or surrogate (Cs) in ``text``, as
    ``U+XXXX``; ``None`` if it has none. Such text is refused wherever it would be stored."""
    found = _FORBIDDEN_CHARACTER.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_text_field(body: dict[str, Any], name: str) -> str | None:
    """The optional string field ``name`` of a body, refused if it is not a string or holds a
    control character or a surrogate (it is stored and sent back)."""
    value = _typed(body, name, str)
    if value is not None and (char := forbidden_character(value)) is not None:
        raise InvalidRequestError(
            f"The field '{name}' contains the character {char}; control characters and "
            "unpaired surrogates are not allowed."
        )
    return value


def validate_tags(value: Any) -> list[str]:
    """A job's tags as given in a body's ``tags`` field, duplicates dropped; at most
    ``MAX_TAGS`` strings (counted as sent) of at most ``MAX_TAG_LENGTH`` characters, as IBM
    allows, without control characters or surrogates. A refusal names the tag's index."""
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidRequestError("The field 'tags' must be a list of strings.")
    if len(value) > MAX_TAGS:
        raise InvalidRequestError(
            f"The field 'tags' holds {len(value)} tags; a job has at most {MAX_TAGS}."
        )
    for index, tag in enumerate(value):
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidRequestError(
                f"The tag at index {index} ('{tag[:20]}...') is {len(tag)} characters long; a "
                f"tag has at most {MAX_TAG_LENGTH}."
            )
        if (char := forbidden_character(tag)) is not None:
            raise InvalidRequestError(
                f"The tag at index {index} contains the character {char}; tags may not contain "
                "control characters or unpaired surrogates."
            )
    return list(dict.fromkeys(value))


def _json_path(path: tuple[str | int, ...]) -> str:
    """A place in a JSON document, as ``params.pubs[0]``; ``(the body)`` for its top."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return text or "(the body)"


def _check_json_value(value: Any, limit: int) -> None:
    """Refuse a decoded body whose arrays and objects nest more than ``limit`` deep, or that
    holds an unpaired surrogate in a string or key (valid JSON escapes, but not Unicode: it could
    not be stored or sent back in UTF-8). Iterative, so that no depth exhausts the stack."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if depth > limit:
            raise _too_deep(limit)
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            for text in (key, child):
                if isinstance(text, str) and (found := _SURROGATE.search(text)) is not None:
                    where = (
                        f"a key of '{_json_path(path)}'"
                        if text is key
                        else f"'{_json_path((*path, key))}'"
                    )
                    raise InvalidRequestError(
                        f"The request body holds the unpaired surrogate U+{ord(found.group()):04X}"
                        f" in {where}; JSON text must be valid Unicode."
                    )
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, (*path, key)))


def _too_deep(limit: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"The request body is nested too deeply: arrays and objects may nest at most {limit} "
        "levels deep."
    )


def parse_json_body(body: bytes, limit: int) -> Any:
    """A request body decoded as JSON, refused if larger than ``limit`` bytes (0: no limit), if
    it is not UTF-8 (JSON's encoding; other encodings are not guessed), if its arrays and
    objects nest more than ``MAX_JSON_DEPTH`` levels deep, or if a string in it holds an unpaired
    surrogate (``"\\ud800"``), which no stored or returned text may hold."""
    if limit and len(body) > limit:
        raise PayloadTooLargeError(
            f"The request body is {len(body)} bytes, more than this server's limit of {limit} "
            "bytes (QiskitRuntimeApp.max_payload_bytes)."
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"The request body is not valid UTF-8 (byte {exc.start}: {exc.reason}); send JSON "
            "encoded in UTF-8."
        ) from None
    try:
        value = json.loads(text or "null")
    except RecursionError:
        raise _too_deep(MAX_JSON_DEPTH) from None
    except ValueError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}") from exc
    if isinstance(value, dict | list):
        _check_json_value(value, MAX_JSON_DEPTH)
    elif isinstance(value, str) and _SURROGATE.search(value):
        raise InvalidRequestError("The request body is a string holding an unpaired surrogate.")
    return value


@dataclass
class JobRequest:
    """A validated ``POST /jobs`` body."""

    program_id: str
    backend: str
    params: str
    tags: list[str] = field(default_factory=list)
    session_id: str | None = None
    log_level: str | None = None
    runtime: str | None = None
    cost: int | None = None
    private: bool = False
    #: Checked against the backend's one calibration; not stored.
    calibration_id: str | None = None

    @classmethod
    def from_body(cls, body: Any) -> JobRequest:
        """Validate a decoded JSON body; ``InvalidRequestError`` says what is wrong."""
        if not isinstance(body, dict):
            raise InvalidRequestError("The request body must be a JSON object.")
        program_id = _typed(body, "program_id", str, required=True)
        backend = _typed(body, "backend", str, required=True)
        params = _typed(body, "params", dict, required=True)
        tags = validate_tags(_typed(body, "tags", list) or [])
        cost = integer_field(body, "cost")
        if cost is not None and not 0 < cost <= MAX_COST_SECONDS:
            raise InvalidRequestError(
                "The field 'cost' (maximum execution seconds) must be positive and at most "
                f"{MAX_COST_SECONDS}."
            )
        return cls(
            program_id=program_id,
            backend=backend,
            params=json.dumps(params),
            tags=tags,
            session_id=_typed(body, "session_id", str),
            log_level=check_text_field(body, "log_level"),
            runtime=check_text_field(body, "runtime"),
            cost=cost,
            private=bool(_typed(body, "private", bool)),
            calibration_id=_typed(body, "calibration_id", str),
        )


def job_to_api(record: JobRecord, params: str | None = None) -> dict[str, Any]:
    """A job in the shape of IBM's ``GET /jobs/{id}``; ``params`` included when given, except
    for a private job, whose input parameters are never returned."""
    state: dict[str, Any] = {"status": record.status}
    if record.reason:
        state["reason"] = record.reason
    if record.reason_code is not None:
        state["reason_code"] = record.reason_code
    data: dict[str, Any] = {
        "id": record.id,
        "backend": record.backend,
        "state": state,
        "status": record.status,
        "program": {"id": record.program_id},
        "created": record.created,
        "started": record.started,
        "ended": record.finished,
        "session_id": record.session_id,
        "tags": record.tags,
        "runtime": record.runtime or "",
        "private": record.private,
        "cost": record.cost,
        "user_id": record.owner,
    }
    if params is not None and not record.private:
        data["params"] = json.loads(params)
    return data


def workload_to_api(record: JobRecord, instance: str) -> dict[str, Any]:
    """A job as a workload of mode ``job``, in the shape of IBM's ``GET /workloads``."""
    seconds = float(record.metrics.get("usage_seconds", 0.0))
    data: dict[str, Any] = {
        "id": record.id,
        "created": record.created,
        "ended": record.finished,
        "backend": record.backend,
        "instance": instance,
        "user_id": record.owner,
        "accepting_jobs": None,
        "mode": "job",
        "status": WORKLOAD_STATUS[record.status],
        "tags": record.tags,
        "program": {"id": record.program_id},
        "session_id": record.session_id,
        "usage_seconds": seconds if record.is_final else None,
        "usage": {
            "qpu_charge_time_seconds": seconds,
            "status": "complete" if record.is_final else "pending",
        },
    }
    if record.reason:
        data["status_reason"] = record.reason
    return data


def metrics_to_api(record: JobRecord, position_in_queue: int | None) -> dict[str, Any]:
    """A job's metrics in the shape of IBM's ``GET /jobs/{id}/metrics``."""
    seconds = float(record.metrics.get("usage_seconds", 0.0))
    return {
        "timestamps": {
            "created": record.created,
            "running": record.started,
            "finished": record.finished,
        },
        "usage": {
            "quantum_seconds": seconds,
            "seconds": seconds,
            "qpu_charge_time_seconds": seconds,
            "status": "complete" if record.is_final else "pending",
        },
        "bss": {"seconds": seconds},
        "position_in_queue": position_in_queue,
        "num_qubits": record.metrics.get("num_qubits", []),
        "circuit_depths": record.metrics.get("circuit_depths", []),
        "qiskit_version": record.metrics.get("qiskit_version"),
        "qiskit_aer_version": record.metrics.get("qiskit_aer_version"),
        "qiskit_ibm_runtime_version": record.metrics.get("qiskit_ibm_runtime_version"),
        "simulator": record.metrics.get("simulator"),
    }

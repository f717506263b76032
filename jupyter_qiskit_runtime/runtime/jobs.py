"""The job model: what a client may submit, and how a job looks on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequestError, PayloadTooLargeError
from .store import CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING, JobRecord

#: IBM's limits on a job's tags (the ``Tags`` schema of the Qiskit Runtime REST API).
MAX_TAGS = 8
MAX_TAG_LENGTH = 86

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


def validate_tags(value: Any) -> list[str]:
    """A job's tags as given in a body's ``tags`` field, duplicates dropped; at most
    ``MAX_TAGS`` strings of at most ``MAX_TAG_LENGTH`` characters, as IBM allows."""
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidRequestError("The field 'tags' must be a list of strings.")
    tags = list(dict.fromkeys(value))
    if len(tags) > MAX_TAGS:
        raise InvalidRequestError(
            f"The field 'tags' holds {len(tags)} different tags; a job has at most {MAX_TAGS}."
        )
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidRequestError(
                f"The tag '{tag[:20]}...' is {len(tag)} characters long; a tag has at most "
                f"{MAX_TAG_LENGTH}."
            )
    return tags


def parse_json_body(body: bytes, limit: int) -> Any:
    """A request body decoded as JSON, refused if larger than ``limit`` bytes (0: no limit)."""
    if limit and len(body) > limit:
        raise PayloadTooLargeError(
            f"The request body is {len(body)} bytes, more than this server's limit of {limit} "
            "bytes (QiskitRuntimeApp.max_payload_bytes)."
        )
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}") from exc


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
        cost = _typed(body, "cost", int)
        if cost is not None and cost <= 0:
            raise InvalidRequestError(
                "The field 'cost' (maximum execution seconds) must be positive."
            )
        return cls(
            program_id=program_id,
            backend=backend,
            params=json.dumps(params),
            tags=tags,
            session_id=_typed(body, "session_id", str),
            log_level=_typed(body, "log_level", str),
            runtime=_typed(body, "runtime", str),
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

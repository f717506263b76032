"""Submitting a job: checking a ``POST /jobs`` body (``validated_request``), and what the answers
to a submission and to a wait may carry beyond IBM's: a final job's state and its result, for
clients that ask with ``Prefer`` (RFC 7240; see ``handlers/jobs.py``)."""

from __future__ import annotations

from typing import Any

from .catalog import BackendCatalog
from .errors import InvalidRequestError, ProgramNotFoundError
from .jobs import JobRequest, job_to_api, parse_json_body
from .records import COMPLETED, JobRecord
from .store import JobStore

#: The largest ``POST /jobs`` body validated and stored on the event loop itself: below it,
#: handing the work to a thread costs more than the work (a few circuits' worth of JSON).
INLINE_SUBMIT_BYTES = 64 * 1024

#: The longest result text put in an answer that asks for it (``Prefer: inline-result``);
#: a longer one is read with ``GET /jobs/{id}/results``.
MAX_INLINE_RESULT_CHARS = 2**20


def in_batch(store: JobStore, session_id: str | None) -> bool:
    """Whether ``session_id`` names a session of mode ``batch`` (whose jobs are submitted to
    run side by side, so a submission's answer does not wait for its job)."""
    if not session_id:
        return False
    rows = store.query("SELECT mode FROM sessions WHERE id = ?", (session_id,))
    return bool(rows) and rows[0][0] == "batch"


def final_fields(
    store: JobStore, owner: str, record: JobRecord, inline_result: bool
) -> dict[str, Any]:
    """A final job's ``state`` and ``status`` for an answer, and its result text as
    ``result_inline`` if asked for, when the job completed, is not private (its result is read
    once, by ``GET /results``) and the text is at most ``MAX_INLINE_RESULT_CHARS`` long."""
    fields = job_to_api(record)
    answer = {"state": fields["state"], "status": fields["status"]}
    if inline_result and record.status == COMPLETED and not record.private:
        text = store.result(record.id, owner)
        if text is not None and len(text) <= MAX_INLINE_RESULT_CHARS:
            answer["result_inline"] = text
    return answer


def validated_request(body: bytes, max_payload_bytes: int, catalog: BackendCatalog) -> JobRequest:
    """A ``POST /jobs`` body, parsed and checked: its program runs here, its backend (an IBM
    device name stands for its backend, which runs and records the job) and calibration exist,
    and its params can run on that backend. Domain errors (400, 404, 413) otherwise."""
    from ..execution.programs import PROGRAMS, ParamsError, validate_params

    request = JobRequest.from_body(parse_json_body(body, max_payload_bytes))
    if request.program_id not in PROGRAMS:
        raise ProgramNotFoundError(
            f"This server does not run the program '{request.program_id}'. "
            f"It runs: {', '.join(PROGRAMS)}."
        )
    backend = catalog.get(request.backend)
    catalog.check_calibration(request.backend, request.calibration_id)
    request.backend = backend.name  # an IBM device name runs, and is recorded, as its backend
    try:
        validate_params(request.program_id, request.params, backend.metadata.n_qubits)
    except ParamsError as exc:
        raise InvalidRequestError(str(exc)) from exc
    except RecursionError:
        # The body's nesting is bounded, but the client's decoder also reads JSON held in
        # strings (a BindingsArray's keys), which can nest without bound.
        raise InvalidRequestError(
            "The job's params could not be decoded: they are nested too deeply."
        ) from None
    return request

"""Property-based tests of the whole API: Schemathesis, driven by the OpenAPI document a real
server serves, against that server.

Every operation of ``v1/openapi.json`` is tested in Schemathesis' three per-operation phases
(``test_every_operation``: the document's examples; coverage, its boundary and invalid values,
missing parameters, wrong media types and methods the operation does not take; fuzzing, random
values valid and not) and in its stateful phase (``test_sequences_of_operations``: sequences of
calls that follow the document's links, e.g. ``POST /v1/jobs`` to the new job's operations), with
every check Schemathesis has. A 5xx fails, and so does any answer that breaks the document: an
undocumented status, media type, header or body, a request the document calls valid that the
server refuses (``positive_data_acceptance``) or one it calls invalid that the server accepts
(``negative_data_rejection``), a missing ``Allow`` header on a 405, a deleted job still found...

**Hints.** Random ids find nothing, so most requests would stop at a 404. Schemathesis' generation
hooks (``flatmap_path_parameters``, ``flatmap_query``, ``flatmap_body``, registered on this
schema only) give Hypothesis real values to choose among, beside the random ones: backend names,
job ids (completed, failed, cancelled, private, deleted), session and batch ids, cursors of the
changes feed and of workload pages, and whole valid job submissions (a Bell sampler job, a ZZ
estimator job, each also in a batch). Hooks are Hypothesis strategies, so the choices are drawn,
shrunk and reproduced with the seed like every other value; a value is replaced only where the
generated one is valid for its schema, so a case generated invalid stays invalid. The document's
links (``POST /v1/jobs`` to the job's operations, ``POST /v1/sessions`` to the session's) drive
the stateful phase with the ids the server just handed out; examples in the document (backend
names) seed the examples phase. Fixed values in Schemathesis' configuration (``parameters``)
were not used: they would replace generation instead of joining it.

**Jobs.** The server has one job slot (with a warm worker) and a limit of one unfinished job per
user, so that 429 is exercised too. Submissions are mostly refused as invalid (random params are
no circuits); the valid ones run 16-shot Bell pairs and a two-qubit ZZ estimator job.

**Rules no schema states.** ``RULES`` lists the server's rules between values (``created_after``
not later than ``created_before``, ``next`` or ``previous`` but not both, a job's session on the
job's backend) and the one rule on a value JSON Schema cannot state (``params`` that decode as
circuits fit for the backend). Each is in its operation's description; ``positive_data_acceptance``
does not judge a request that breaks one, and every other check does.

**Budget.** With the defaults (``FUZZ_MAX_EXAMPLES=100``: fuzzing cases per operation and
stateful scenarios; a fixed seed, derandomized, no example database) the module takes about a
minute on 2 cores: some 3,700 requests. ``make fuzz`` runs it longer and with a new seed each
time (``FUZZ_SEED=random``; the seed is in the summary line, ``make fuzz FUZZ_SEED=<seed>``
replays it).
"""

from __future__ import annotations

import collections
import os
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import requests

pytest.importorskip("schemathesis", reason="the fuzz tests need schemathesis (the test extra)")

import hypothesis
import schemathesis
from hypothesis import strategies as st
from hypothesis.stateful import get_state_machine_test
from qiskit import QuantumCircuit
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup

from jupyter_qiskit_runtime.handlers.query import parse_time
from jupyter_qiskit_runtime.models import PROGRAM_IDS
from jupyter_qiskit_runtime.openapi import ROUTES, openapi_document
from jupyter_qiskit_runtime.openapi.parameters import cursor_schema

from .circuits import bell_circuit, entangling_circuit, params_for
from .servers import BASE_URL, ServerProcess

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    # Schemathesis warns about what it could not test (e.g. operations always answering 404);
    # the hints are there for that, and a failure is what counts here.
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

#: Fuzzing cases per operation, and stateful scenarios; ``make fuzz`` raises it.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "100"))
#: The seed of every test's generation. Unset (CI): a fixed one, derandomized, with no example
#: database. ``random`` (``make fuzz``): a new one, in the summary line; a number: that one (to
#: replay a ``make fuzz`` run).
_SEED_SETTING = os.environ.get("FUZZ_SEED", "")
FIXED = _SEED_SETTING == ""
SEED = (
    20250117
    if FIXED
    else random.SystemRandom().randrange(2**32)
    if _SEED_SETTING == "random"
    else int(_SEED_SETTING)
)

#: The fuzzed server's token.
TOKEN = "fuzz-token"
#: The server's limit of unfinished jobs per user (then 429); it runs one job at a time.
MAX_PENDING_JOBS = 1

#: Seconds a request may take. The long polls (``/wait``, ``/jobs/changes``) take up to their
#: ``timeout``, which ``_short_waits`` keeps at a fraction of a second.
REQUEST_TIMEOUT = 30.0
#: The longest wait this test lets a long poll ask for, in seconds (the document allows 60).
LONGEST_WAIT = 0.2

#: Every check Schemathesis 4 has; the test fails if one of them is not registered (renamed or
#: removed), so that none is silently dropped. ``object_level_authorization`` needs two
#: identities to compare; with one user's token it has nothing to report.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
)


# -- the rules OpenAPI cannot state -----------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A rule of the server that no schema of one value can state: a request that breaks it is
    refused (400) however valid each of its values is. ``positive_data_acceptance`` does not
    judge such a request; every other check does."""

    operation: str
    what: str
    broken_by: Callable[[Any, Hints], bool]


def _time(value: Any) -> datetime | None:
    """A query argument as the server reads a time, or ``None``."""
    return parse_time(value) if isinstance(value, str) else None


def _empty_time_range(case: Any, hints: Hints) -> bool:
    after = _time((case.query or {}).get("created_after"))
    before = _time((case.query or {}).get("created_before"))
    return after is not None and before is not None and after > before


def _both_cursors(case: Any, hints: Hints) -> bool:
    query = case.query or {}
    return "next" in query and "previous" in query


def _not_a_known_submission(case: Any, hints: Hints) -> bool:
    body = case.body
    if not isinstance(body, dict):
        return True
    return not any(
        (body.get("program_id"), body.get("backend"), body.get("params"))
        == (known["program_id"], known["backend"], known["params"])
        for known in hints.submissions
    )


def _session_on_another_backend(case: Any, hints: Hints) -> bool:
    body = case.body
    if not isinstance(body, dict):
        return False
    session_id = body.get("session_id")
    backend = hints.session_backends.get(session_id) if isinstance(session_id, str) else None
    return backend is not None and backend != body.get("backend")


#: The server's rules between values, each stated in its operation's description (and the one
#: rule on a value that JSON Schema cannot state: that ``params`` hold QPY circuits fit for the
#: backend). Listed here so that ``positive_data_acceptance`` skips exactly these.
RULES = (
    Rule("GET /v1/jobs", "created_after later than created_before", _empty_time_range),
    Rule("GET /v1/workloads", "created_after later than created_before", _empty_time_range),
    Rule("GET /v1/workloads", "next together with previous", _both_cursors),
    Rule(
        "POST /v1/jobs",
        "params that are not the program's input for the backend: JSON Schema cannot say which "
        "base64 strings are QPY circuits that fit it (only the hints' submissions are)",
        _not_a_known_submission,
    ),
    Rule(
        "POST /v1/jobs", "a session on another backend than the job's", _session_on_another_backend
    ),
)


def _broken_rules(case: Any, hints: Hints) -> list[Rule]:
    label = f"{case.method.upper()} {case.operation.path}"
    return [rule for rule in RULES if rule.operation == label and rule.broken_by(case, hints)]


def _excluded_checks(case: Any, hints: Hints) -> list[Any]:
    return [CHECKS.get_one("positive_data_acceptance")] if _broken_rules(case, hints) else []


# -- the server and the real values ------------------------------------------------------------


@dataclass
class Hints:
    """Real values of the fuzzed server, for the generation hooks to choose among."""

    backends: list[str] = field(default_factory=list)
    calibration_ids: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    session_backends: dict[str, str] = field(default_factory=dict)
    change_cursors: list[str] = field(default_factory=list)
    page_cursors: list[str] = field(default_factory=list)
    #: Valid ``POST /v1/jobs`` bodies (program, backend, params and maybe a session).
    submissions: list[dict[str, Any]] = field(default_factory=list)


class Api:
    """The fuzzed server's API, called with its token, for the fixtures."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers.update(server.headers())

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.server.api}/{path}", timeout=60, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def submit(self, body: dict[str, Any], cancel: bool = False) -> str:
        """Submit a job (and cancel it at once) and wait until it is final; its id.

        A 429 is retried for a moment: the server counts a job as unfinished for a little while
        after it reports it final (it frees the job's place after its final write)."""
        for _ in range(100):
            response = self.session.post(f"{self.server.api}/jobs", json=body, timeout=60)
            if response.status_code != 429:
                break
            time.sleep(0.05)
        assert response.status_code == 201, response.text
        job_id = str(response.json()["id"])
        if cancel:
            self.call("POST", f"jobs/{job_id}/cancel", 204)
        for _ in range(100):
            job = self.call("GET", f"jobs/{job_id}/wait", 200, params={"timeout": "30"})
            if job["state"]["status"] in ("Completed", "Failed", "Cancelled"):
                return job_id
        raise AssertionError(f"job {job_id} did not finish")


def _estimator_params() -> dict[str, Any]:
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    return params_for([(bell, {"ZZ": 1.0})])


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: one job slot with a warm worker, and few unfinished jobs per user."""
    with ServerProcess(
        tmp_path_factory.mktemp("fuzz"),
        TOKEN,
        "--QiskitRuntimeApp.pool_size=1",
        "--QiskitRuntimeApp.prestart_workers=1",
        f"--QiskitRuntimeApp.max_pending_jobs_per_user={MAX_PENDING_JOBS}",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def hints(fuzz_server: ServerProcess) -> Hints:
    """Jobs in every final state, a session and a batch, cursors: the values to choose among
    (``HINTS``, which the generation hooks read)."""
    api = Api(fuzz_server)
    hints = HINTS
    hints.backends = ["fake_manila@aer_ideal", "ideal_5q@aer_ideal", "fake_manila@aer"]
    for name in hints.backends:
        config = api.call("GET", f"backends/{name}/configuration", 200)
        hints.calibration_ids.append(config["calibration_id"])
    batch = api.call("POST", "sessions", 201, json={"mode": "batch", "backend": hints.backends[0]})
    session = api.call("POST", "sessions", 201, json={"backend": hints.backends[2]})
    for opened in (batch, session):
        hints.session_ids.append(opened["id"])
        hints.session_backends[opened["id"]] = opened["backend_name"]
    sampler = {
        "program_id": "sampler",
        "backend": hints.backends[0],
        "params": params_for([(bell_circuit(), None, 16)]),
    }
    estimator = {
        "program_id": "estimator",
        "backend": hints.backends[1],
        "params": _estimator_params(),
    }
    hints.submissions = [sampler, estimator, {**sampler, "session_id": batch["id"]}]
    refused = {
        "program_id": "sampler",
        "backend": "ideal_32q@aer_ideal",
        "params": params_for([(entangling_circuit(), None, 16)]),  # over any memory budget
    }
    # One after the other: the server takes one unfinished job per user.
    completed, private, in_batch, failed, deleted = (
        api.submit(body)
        for body in (
            {**sampler, "tags": ["fuzz"]},
            {**estimator, "private": True},
            hints.submissions[2],
            refused,
            sampler,
        )
    )
    api.call("DELETE", f"jobs/{deleted}", 204)
    long_job = {**sampler, "params": params_for([(bell_circuit(), None, 10**6)])}
    cancelled = api.submit(long_job, cancel=True)
    hints.job_ids = [completed, private, in_batch, failed, cancelled, deleted]
    changes = api.call("GET", "jobs/changes", 200, params={"limit": "2"})
    hints.change_cursors = [changes["cursor"]]
    hints.change_cursors.append(api.call("GET", "jobs/changes", 200)["cursor"])
    page = api.call("GET", "workloads", 200, params={"limit": "1"})
    for _ in range(2):
        href = page["next"]["href"]
        hints.page_cursors.append(
            urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["next"][0]
        )
        page = api.call(
            "GET", "workloads", 200, params={"limit": "1", "next": hints.page_cursors[-1]}
        )
    hints.page_cursors.append(
        urllib.parse.parse_qs(urllib.parse.urlsplit(page["previous"]["href"]).query)["previous"][0]
    )
    return hints


# -- the schema and its hooks ------------------------------------------------------------------


def _config() -> schemathesis.Config:
    generation: dict[str, Any] = {
        "max-examples": MAX_EXAMPLES,
        "deterministic": FIXED,
        # Strings as a client sends them: UTF-8 (the server refuses unpaired surrogates, which
        # no JSON Schema pattern can name).
        "codec": "utf-8",
    }
    if FIXED:
        generation["database"] = "none"  # nothing carried over from earlier runs
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"token {TOKEN}"},
            "request-timeout": REQUEST_TIMEOUT,
            "generation": generation,
            "checks": {"enabled": True},
            "phases": {"stateful": {"max-steps": 6}},
        }
    )


def _valid(pattern: str) -> Callable[[Any], bool]:
    compiled = re.compile(pattern)
    return lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None


def _valid_cursor(kind: str) -> Callable[[Any], bool]:
    schema = cursor_schema(kind)
    matches = _valid(schema["pattern"].strip("^$"))
    return lambda value: matches(value) and len(value) <= schema["maxLength"]


_VALID_ID = _valid(r"[A-Za-z0-9_-]+")
_VALID_TEXT = _valid(r"[^\x00-\x1f\x7f-\x9f]*")
_VALID_CHANGE_CURSOR = _valid_cursor("change")
_VALID_PAGE_CURSOR = _valid_cursor("seq")


def _maybe(value: Any, choices: list[Any], valid: Callable[[Any], bool]) -> st.SearchStrategy[Any]:
    """The generated ``value``, or one of ``choices`` if ``value`` is valid (a value generated
    invalid stays, so that the case stays invalid)."""
    if not choices or not valid(value):
        return st.just(value)
    return st.one_of(st.just(value), st.sampled_from(choices))


def _with(container: dict[str, Any], name: str, choice: st.SearchStrategy[Any]) -> Any:
    return choice.map(lambda value: {**container, name: value})


def _real_values(
    values: Any, choices_by_name: dict[str, tuple[list[Any], Callable[[Any], bool]]]
) -> st.SearchStrategy[Any]:
    """Generated path parameters or query arguments, each value named in ``choices_by_name``
    maybe replaced by one of its real choices (``_maybe``)."""
    strategy: st.SearchStrategy[Any] = st.just(values)
    if not isinstance(values, dict):
        return strategy
    for name, (choices, valid) in choices_by_name.items():
        if name in values:
            value = values[name]
            strategy = strategy.flatmap(
                lambda d, n=name, v=value, c=choices, ok=valid: _with(d, n, _maybe(v, c, ok))
            )
    return strategy


def register_hints(schema: Any, hints: Hints) -> None:
    """Give the schema's generation the real values to choose among."""

    @schema.hook("flatmap_path_parameters")
    def real_ids(ctx: Any, parameters: Any) -> st.SearchStrategy[Any]:
        return _real_values(
            parameters,
            {
                "job_id": (hints.job_ids, _VALID_ID),
                "session_id": (hints.session_ids, _VALID_ID),
                "name": (hints.backends, lambda v: isinstance(v, str)),
            },
        )

    @schema.hook("flatmap_query")
    def real_query_values(ctx: Any, query: Any) -> st.SearchStrategy[Any]:
        return _real_values(
            query,
            {
                "backend": (hints.backends, _VALID_TEXT),
                "session_id": (hints.session_ids, _VALID_TEXT),
                "calibration_id": (hints.calibration_ids, lambda v: isinstance(v, str)),
                "since": (hints.change_cursors, _VALID_CHANGE_CURSOR),
                "next": (hints.page_cursors, _VALID_PAGE_CURSOR),
                "previous": (hints.page_cursors, _VALID_PAGE_CURSOR),
            },
        )

    @schema.hook("flatmap_body")
    def real_bodies(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
        path = ctx.operation.path
        if not isinstance(body, dict):
            return st.just(body)
        if path == "/v1/jobs" and _is_valid_submission_core(body):
            return st.one_of(
                st.just(body),
                st.sampled_from(hints.submissions).map(lambda known: _submission(body, known)),
            )
        if path == "/v1/sessions" and isinstance(body.get("backend"), str) and body["backend"]:
            return _with(
                body,
                "backend",
                st.one_of(st.just(body["backend"]), st.sampled_from(hints.backends)),
            )
        return st.just(body)


def _is_valid_submission_core(body: dict[str, Any]) -> bool:
    """Whether the fields a known submission replaces were generated valid."""
    params = body.get("params")
    return (
        body.get("program_id") in PROGRAM_IDS
        and isinstance(body.get("backend"), str)
        and isinstance(params, dict)
        and len(params) > 0
        and (body.get("session_id") is None or isinstance(body.get("session_id"), str))
    )


def _submission(body: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a known submission's program, backend and params (and its session, where the
    body has a session)."""
    replaced = {**body, **{k: known[k] for k in ("program_id", "backend", "params")}}
    if "session_id" in known and isinstance(body.get("session_id"), str):
        replaced["session_id"] = known["session_id"]
    return replaced


#: The document under test: the one the server serves at ``v1/openapi.json`` under its base URL
#: (``served_document`` checks that they are equal). It is built here, at import, so that pytest
#: collects one test per operation; the server's port is given with each request.
DOCUMENT = openapi_document(BASE_URL)
#: The real values of the server, filled in by the ``hints`` fixture before any case is drawn.
HINTS = Hints()

schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config())
register_hints(schema, HINTS)


def _ours(case: Any) -> bool:
    """Whether a case is of the schema under test (or of one of the copies Schemathesis makes of
    it for each test), for the global hooks below."""
    return case.operation.schema.raw_schema.get("info") == DOCUMENT["info"]


@schemathesis.hook("before_call")
def _short_waits(ctx: Any, case: Any, kwargs: Any) -> None:
    """Keep the long polls short: a ``timeout`` the document allows (0 to 60 s) is cut to
    ``LONGEST_WAIT``, in every phase (Schemathesis revalidates a case that this hook changes)."""
    if not _ours(case) or not case.query or "timeout" not in case.query:
        return
    value = case.query["timeout"]
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return
    if not isinstance(value, bool) and 0 <= seconds <= 60 and seconds > LONGEST_WAIT:
        case.query["timeout"] = LONGEST_WAIT


#: Requests sent, by operation and by answer status, and stateful scenarios, for the summary.
CALLS: collections.Counter[str] = collections.Counter()
STATUSES: collections.Counter[int] = collections.Counter()
SCENARIOS: collections.Counter[str] = collections.Counter()


@schemathesis.hook("after_call")
def _count(ctx: Any, case: Any, response: Any) -> None:
    """Count the cases sent, for the summary ``base_url`` prints at the end of the module."""
    if _ours(case):
        CALLS[case.operation.label] += 1
        STATUSES[response.status_code] += 1


@pytest.fixture(scope="module")
def base_url(
    fuzz_server: ServerProcess, hints: Hints, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Where the cases go: the fuzzed server's ``{base_url}qiskit-runtime``, once the hints are
    in place and the document it serves is the one under test."""
    served = requests.get(
        f"{fuzz_server.api}/openapi.json", headers=fuzz_server.headers(), timeout=30
    )
    assert served.status_code == 200, served.text
    assert served.json() == DOCUMENT
    started = time.monotonic()
    yield f"http://127.0.0.1:{fuzz_server.port}{BASE_URL}qiskit-runtime"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and CALLS:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(STATUSES.items()))
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nfuzz: {sum(CALLS.values())} requests to {len(CALLS)} operations in "
                f"{time.monotonic() - started:.0f} s (seed {SEED}, max examples {MAX_EXAMPLES}); "
                f"answers {statuses}; stateful scenarios: {dict(SCENARIOS) or 'none'}"
            )


# -- the tests ---------------------------------------------------------------------------------


def test_every_check_is_enabled() -> None:
    """The checks this test relies on exist in the installed Schemathesis, all are on, and every
    documented operation is tested."""
    registered = set(CHECKS.get_all_names())
    assert set(CHECK_NAMES) <= registered, set(CHECK_NAMES) - registered
    config = schema.config.checks_config_for(operation=None, phase=None)
    assert all(config.get_by_name(name=name).enabled for name in CHECK_NAMES)
    documented = {f"{op.method} {path}" for path, ops in ROUTES.items() for op in ops}
    loaded = {op.ok().label for op in schema.get_all_operations()}
    assert loaded == documented


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation(case: Any, base_url: str) -> None:
    """Examples, coverage and fuzzing of one operation: no 5xx, every answer as documented."""
    case.call_and_validate(
        base_url=base_url, excluded_checks=_excluded_checks(case, HINTS), timeout=REQUEST_TIMEOUT
    )


def test_sequences_of_operations(base_url: str) -> None:
    """Stateful: sequences that follow the document's links (create a job, then read, wait for,
    cancel, tag and delete it; open a session, then read, close and list its jobs).

    Every check's failure is recorded when it happens, as Schemathesis' own engine records it.
    The server keeps its state from one scenario to the next (a job still queued makes the next
    submission a 429, so the next step follows another link), so Hypothesis may find that a
    replayed scenario draws differently and stop with ``Flaky``: the limitation of stateful
    testing against a live server that Schemathesis' engine also accepts. Then the test fails
    with the failures recorded, if any, and otherwise goes on with the next seed until its
    scenarios are done (the scenarios run are in the summary line)."""
    failures: list[BaseException] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts with no unfinished job: what the previous one left running
            # would make this one's submissions 429s, and its steps differ on a replay.
            SCENARIOS["run"] += 1
            with requests.Session() as session:
                session.headers.update({"Authorization": f"token {TOKEN}"})
                for _ in range(200):
                    pending = session.get(
                        f"{base_url}/v1/jobs", params={"pending": "true", "limit": "0"}, timeout=30
                    )
                    if pending.json()["count"] == 0:
                        break
                    time.sleep(0.05)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url, "timeout": REQUEST_TIMEOUT}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:  # fmt: skip
            try:
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=_excluded_checks(case, HINTS),
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as failure:
                failures.append(failure)
                raise

    test = get_state_machine_test(
        Workflow,
        settings=hypothesis.settings(
            Workflow.TestCase.settings,
            max_examples=MAX_EXAMPLES,
            stateful_step_count=6,
            derandomize=FIXED,
            database=None if FIXED else hypothesis.settings.default.database,
            deadline=None,
        ),
        _min_steps=2,  # as Schemathesis runs its state machines
    )
    # A run stopped by Flaky before its scenarios are done starts again with the next seed, as
    # Schemathesis' engine retries it, up to three runs in all.
    for attempt in range(3):
        try:
            hypothesis.seed(SEED + attempt)(test)()
            return
        except hypothesis.errors.Flaky:
            if failures:
                raise failures[0] from None
            SCENARIOS["stopped by Flaky"] += 1
            if SCENARIOS["run"] >= MAX_EXAMPLES:
                return


def test_rules_are_the_documented_ones() -> None:
    """Each rule the test exempts from ``positive_data_acceptance`` is stated in its operation's
    description, so a client can read it."""
    descriptions = {
        f"{op.method} {path}": (op.description or "") for path, ops in ROUTES.items() for op in ops
    }
    assert "`created_after` later than `created_before`" in descriptions["GET /v1/jobs"]
    assert "`created_after`" in descriptions["GET /v1/workloads"]
    assert "both `next` and `previous`" in descriptions["GET /v1/workloads"]
    assert "another" in descriptions["POST /v1/jobs"]
    assert "`params` that do not decode" in descriptions["POST /v1/jobs"]
    assert {rule.operation for rule in RULES} <= set(descriptions)

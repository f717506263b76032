"""How clients reach the server: ``connect()``, the no-patch recipe, and per-user isolation."""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from qiskit import transpile
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

from jupyter_qiskit_runtime import connect
from jupyter_qiskit_runtime.kernel.client import LOCAL_INSTANCE
from jupyter_qiskit_runtime.kernel.jupyter_service import GIVEN_TOKEN_NOTICE

from .circuits import bell_circuit, sampler_job_body, slow_circuit
from .rest import FINAL, RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RECIPE = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    from qiskit import QuantumCircuit, transpile
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

    server, token = sys.argv[1], sys.argv[2]
    service = QiskitRuntimeService(
        channel="ibm_quantum_platform",
        token=token,
        url=server + "qiskit-runtime/v1",
        instance="crn:v1:jupyter:public:quantum-computing:local:a/jupyter-qiskit-runtime::",
        url_resolver=lambda url, *args: url,
    )
    backend = service.backend("fake_manila@aer_ideal")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    job = SamplerV2(mode=backend).run([transpile(bell, backend=backend)], shots=1000)
    print(json.dumps(job.result()[0].data.meas.get_counts()))
    """
)


def test_unmodified_client_connects_with_the_no_patch_recipe(server: ServerProcess) -> None:
    """A stock script, given only environment and public constructor arguments, runs a job;
    the token exchange succeeds, so the client never falls back to sending its API key."""
    env = {
        **os.environ,
        "IAM_URL": f"{server.url}qiskit-runtime/iam",
        "QISKIT_FUNCTIONS_EXPERIMENTAL": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", RECIPE, server.url, server.token],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
    assert "Unable to retrieve IBM Cloud access token" not in done.stderr


def test_connect_leaves_real_ibm_accounts_unchanged(server: ServerProcess) -> None:
    """After ``connect()``, an IBM account made in the same process resolves IBM's URLs, talks
    to IBM's IAM, and no class or module attribute of the client was changed."""
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.accounts import Account
    from qiskit_ibm_runtime.api import auth, client_parameters
    from qiskit_ibm_runtime.api.auth import CloudAuth
    from qiskit_ibm_runtime.api.client import RuntimeClient
    from qiskit_ibm_runtime.api.client_parameters import ClientParameters
    from qiskit_ibm_runtime.api.utils import default_runtime_url_resolver

    watched = [QiskitRuntimeService, RuntimeClient, ClientParameters, CloudAuth, Account]
    modules = [auth, client_parameters]
    before = [dict(vars(x)) for x in watched + modules]
    environ_before = dict(os.environ)

    ours = connect(server.url, server.token)
    assert ours.backend("fake_manila@aer_ideal").name == "fake_manila@aer_ideal"

    assert [dict(vars(x)) for x in watched + modules] == before
    assert dict(os.environ) == environ_before
    crn = "crn:v1:bluemix:public:quantum-computing:us-east:a/abc123:def456::"
    account = Account.create_account(channel="ibm_quantum_platform", token="k" * 44, instance=crn)
    params = ClientParameters(
        channel=account.channel, token=account.token, url=account.url, instance=crn
    )
    assert params.url_resolver is default_runtime_url_resolver
    assert "quantum.cloud.ibm.com" in params.get_runtime_api_base_url()
    assert CloudAuth(api_key="k" * 44, crn=crn).tm.url == "https://iam.cloud.ibm.com"


def test_users_cannot_see_read_or_cancel_each_others_jobs(two_users: ServerProcess) -> None:
    """Bob gets 404 for everything of alice's, through the client and through REST; alice's
    queued job survives bob's cancel; listings hold only one's own jobs."""
    alice, bob = RestClient(two_users, "alice-token"), RestClient(two_users, "bob-token")
    running = alice.submit(sampler_job_body("ideal_32q@aer_ideal", slow_circuit(layers=10)))
    queued = alice.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit()))
    for path in ("", "/results", "/logs", "/metrics"):
        assert bob.get(f"jobs/{queued}{path}").status_code == 404
    assert bob.post(f"jobs/{queued}/cancel").status_code == 404
    assert bob.post(f"jobs/{running}/cancel").status_code == 404
    assert bob.get("jobs").json()["jobs"] == []
    assert {j["id"] for j in alice.get("jobs").json()["jobs"]} == {running, queued}
    assert alice.wait_for(queued, FINAL)["state"]["status"] == "Completed"
    assert alice.status(running) == "Completed"

    bob_service = connect(two_users.url, "bob-token")
    with pytest.raises(RuntimeJobNotFound):
        bob_service.job(queued)
    alice_service = connect(two_users.url, "alice-token")
    assert alice_service.job(queued).status() == "DONE"
    assert RestClient(two_users, "nobody-token").get("jobs").status_code == 403


def test_round_robin_across_users_fifo_within_a_user(two_users: ServerProcess) -> None:
    """Behind a running job, alice's three and bob's two queued jobs start alternately,
    each user's in submission order."""
    alice, bob = RestClient(two_users, "alice-token"), RestClient(two_users, "bob-token")
    blocker = alice.submit(sampler_job_body("ideal_32q@aer_ideal", slow_circuit(layers=10)))
    alice.wait_for(blocker, {"Running"})
    bell = sampler_job_body("fake_manila@aer_ideal", bell_circuit())
    a = [alice.submit(bell) for _ in range(3)]
    b = [bob.submit(bell) for _ in range(2)]
    owners = {**{j: alice for j in a}, **{j: bob for j in b}}
    for job_id, client in owners.items():
        client.wait_for(job_id, FINAL)
    started = {
        j: owners[j].get(f"jobs/{j}/metrics").json()["timestamps"]["running"] for j in owners
    }
    assert sorted(owners, key=started.__getitem__) == [a[0], b[0], a[1], b[1], a[2]]


def test_connected_service_runs_jobs_per_user(two_users: ServerProcess) -> None:
    """Through ``connect()``, each user's service lists only that user's jobs."""
    service = connect(two_users.url, "bob-token")
    backend = service.backend("fake_manila@aer_ideal")
    job = SamplerV2(mode=backend).run([transpile(bell_circuit(), backend=backend)], shots=100)
    assert sum(job.result()[0].data.meas.get_counts().values()) == 100
    assert job.job_id() in {j.job_id() for j in service.jobs(limit=50)}
    alice_jobs = {j.job_id() for j in connect(two_users.url, "alice-token").jobs(limit=50)}
    assert job.job_id() not in alice_jobs


def test_token_exchange_works_with_a_provider_that_identifies_once(two_users) -> None:
    """The IAM exchange answers for a user of an identity provider that caches its answer per
    request, as JupyterHub's does; a wrong key is a 401."""
    url = f"{two_users.url}qiskit-runtime/iam/identity/token"
    grant = "urn:ibm:params:oauth:grant-type:apikey"
    answer = requests.post(url, data={"grant_type": grant, "apikey": "bob-token"}, timeout=30)
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "bob"
    wrong = requests.post(url, data={"grant_type": grant, "apikey": "eve-token"}, timeout=30)
    assert wrong.status_code == 401


def test_the_client_never_holds_the_jupyter_token(server: ServerProcess) -> None:
    """``connect()`` gives the client a runtime API key, not the Jupyter token, so a deep copy of
    a backend (which builds a fresh authenticator) carries only that key."""
    service = connect(server.url, server.token)
    backend = service.backend("fake_manila@aer_ideal")
    clone = copy.deepcopy(backend)
    held = [service._account.token, clone._api_client._session.auth.api_key]
    assert server.token not in held
    assert all(key.count(".") == 2 for key in held), "the client holds a JWT API key"


@pytest.fixture
def client_log() -> Iterator[list[logging.LogRecord]]:
    """The records the client's loggers (``qiskit_ibm_runtime.*``) emit meanwhile."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    logger = logging.getLogger("qiskit_ibm_runtime")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_connect_is_quiet_and_the_clients_other_warnings_still_show(
    server: ServerProcess, client_log: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``connect()`` shows no "Loading account with the given token" notice; the client's
    logger is not silenced: a stock service built next in the same process still shows it."""
    connect(server.url, server.token)
    assert not [r for r in client_log if GIVEN_TOKEN_NOTICE in r.getMessage()]
    monkeypatch.setenv("IAM_URL", f"{server.url}qiskit-runtime/iam")
    monkeypatch.setenv("QISKIT_FUNCTIONS_EXPERIMENTAL", "1")
    QiskitRuntimeService(
        channel="ibm_quantum_platform",
        token=server.token,
        url=f"{server.url}qiskit-runtime/v1",
        instance=LOCAL_INSTANCE,
        url_resolver=lambda url, *args: url,
    )
    notices = [r for r in client_log if GIVEN_TOKEN_NOTICE in r.getMessage()]
    assert len(notices) == 1 and notices[0].levelno == logging.WARNING


def test_a_connect_job_costs_one_or_two_requests(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job through ``connect()`` sends its submission and at most one wait, which bring its
    state and result: no usage, backend status, status poll or result download. (One request
    when the job is final within the server's quick wait; the count does not depend on it.)"""
    service = connect(server.url, server.token)
    backend = service.backend("fake_manila@aer_ideal")
    sampler = SamplerV2(mode=backend)
    circuit = transpile(bell_circuit(), backend=backend)
    sampler.run([circuit], shots=100).result()  # the backend's properties and status, once
    sent: list[tuple[str, str]] = []
    send = requests.Session.send

    def counting(session: requests.Session, request: Any, **kwargs: Any) -> Any:
        sent.append((request.method, request.path_url.split("?")[0].rsplit("/", 1)[-1]))
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting)
    for _ in range(3):
        job = sampler.run([circuit], shots=100)
        assert sum(job.result()[0].data.meas.get_counts().values()) == 100
    assert [s for s in sent if s[0] == "POST"] == [("POST", "jobs")] * 3
    assert {path for method, path in sent if method == "GET"} <= {"wait"}
    assert len(sent) <= 6
    monkeypatch.undo()
    assert job.result()[0].data.meas.num_shots == 100  # a second result() downloads it


def test_wait_with_inline_result_gives_the_results_text(server: ServerProcess) -> None:
    """``GET /jobs/{id}/wait`` with ``Prefer: inline-result`` carries a completed job's result
    text as ``GET /results`` gives it, and says so in ``Preference-Applied``; a private job's
    result is never inlined (it can be read once, by ``GET /results``)."""
    rest = RestClient(server)
    public = rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit()))
    private = rest.submit(
        {**sampler_job_body("fake_manila@aer_ideal", bell_circuit()), "private": True}
    )
    prefer = {**server.headers(), "Prefer": "inline-result"}
    answers = {
        job_id: requests.get(f"{server.api}/jobs/{job_id}/wait", headers=prefer, timeout=90)
        for job_id in (public, private)
    }
    assert answers[public].json()["status"] == "Completed"
    assert answers[public].headers["Preference-Applied"] == "inline-result"
    assert answers[public].json()["result_inline"] == rest.get(f"jobs/{public}/results").text
    assert answers[private].json()["status"] == "Completed"
    assert "result_inline" not in answers[private].json()
    assert "Preference-Applied" not in answers[private].headers

"""A small REST client for end-to-end tests that need to look under the official client."""

from __future__ import annotations

import time
from typing import Any

import requests

from .servers import ServerProcess

FINAL = {"Completed", "Failed", "Cancelled"}


class RestClient:
    """Calls one server's runtime API with one user's token."""

    def __init__(self, server: ServerProcess, token: str | None = None) -> None:
        self.server = server
        self.headers = server.headers(token)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET ``{api}/{path}``."""
        return requests.get(f"{self.server.api}/{path}", headers=self.headers, timeout=30, **kwargs)

    def post(self, path: str, json: Any = None) -> requests.Response:
        """POST JSON to ``{api}/{path}``."""
        return requests.post(
            f"{self.server.api}/{path}", headers=self.headers, json=json, timeout=60
        )

    def request(self, method: str, path: str, json: Any = None) -> requests.Response:
        """Any method on ``{api}/{path}``, with a JSON body if given."""
        return requests.request(
            method, f"{self.server.api}/{path}", headers=self.headers, json=json, timeout=60
        )

    def submit(self, body: dict[str, Any]) -> str:
        """Submit a job; its id."""
        response = self.post("jobs", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def status(self, job_id: str) -> str:
        """The job's state.status."""
        response = self.get(f"jobs/{job_id}", params={"exclude_params": "true"})
        assert response.status_code == 200, response.text
        return str(response.json()["state"]["status"])

    def wait_for(self, job_id: str, states: set[str], timeout: float = 120.0) -> dict[str, Any]:
        """Poll until the job is in one of ``states``; the job document."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"jobs/{job_id}", params={"exclude_params": "true"}).json()
            if job["state"]["status"] in states:
                return dict(job)
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not reach {states} in {timeout} s: {job}")

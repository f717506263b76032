"""The API reference page (``v1/docs``) in a real browser: it renders, and "Try it out" works.

Headless Chromium (as in tests/test_browser.py, whose helpers this reuses) opens the page of a real
Jupyter server with its token, which logs the browser in. Swagger UI must render the served
OpenAPI 3.1 document and list the job endpoints; then "Try it out" runs ``GET /v1/jobs`` and
``POST /v1/sessions`` with the browser's Jupyter session: the POST passes Jupyter's XSRF check
only because the page's request interceptor sends the ``_xsrf`` cookie as ``X-XSRFToken``, which
the test shows by a POST without it being refused. Every request the browser makes goes to the
Jupyter server: nothing comes from a CDN. A screenshot is kept as ``api-docs.png`` in
``test-artifacts/`` (``api-docs-failed.png`` on a failure).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .servers import ServerProcess
from .test_browser import PAGE_MS, artifacts_dir, chromium, screenshot_on_failure

#: The job endpoints the page must list (path as Swagger UI shows it).
JOB_PATHS = (
    "/v1/jobs",
    "/v1/jobs/{job_id}",
    "/v1/jobs/{job_id}/results",
    "/v1/jobs/{job_id}/cancel",
    "/v1/jobs/{job_id}/logs",
    "/v1/jobs/{job_id}/wait",
)


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A Jupyter server with the extension (no job runs: no worker is started)."""
    with ServerProcess(
        tmp_path_factory.mktemp("api-docs"), "docs-token", "--QiskitRuntimeApp.pool_size=1"
    ) as proc:
        yield proc


def try_it_out(page: Any, operation_id: str, body: str | None = None) -> str:
    """Open an operation, "Try it out", optionally replace its JSON body, "Execute"; the HTTP
    status Swagger UI shows for the answer."""
    block = page.locator(f"[id$='-{operation_id}']").first
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(body)
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    return status.inner_text().strip()


def test_api_reference_renders_and_tries_requests_with_the_jupyter_session(
    docs_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page lists the job endpoints; a GET and a POST through "Try it out" answer 2xx; a
    POST without the XSRF header is refused; every request stays on the server; no CSP
    violation is reported."""
    origin = f"http://127.0.0.1:{docs_server.port}/"
    requested: list[str] = []
    console: list[str] = []
    started = time.monotonic()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(PAGE_MS)
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        with screenshot_on_failure(page, "api-docs-failed.png", capsys, console):
            page.goto(f"{docs_server.api}/docs?token={docs_server.token}")
            page.locator(".opblock").first.wait_for()
            assert "Qiskit Runtime API" in page.locator(".info .title").inner_text()
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            shown = {re.sub(r"\s+", "", p) for p in paths}
            missing = [p for p in JOB_PATHS if p not in shown]
            assert not missing, (missing, sorted(shown))

            assert try_it_out(page, "list_jobs") == "200"
            body = '{"mode": "batch", "backend": "fake_manila@aer_ideal"}'
            assert try_it_out(page, "create_session", body) == "201"

            # The same kind of POST with the login cookie but without the XSRF header: refused.
            request = {
                "url": f"{docs_server.api}/sessions",
                "init": {
                    "method": "POST",
                    "body": '{"backend": "fake_manila@aer_ideal"}',
                    "headers": {"Content-Type": "application/json"},
                },
            }
            plain = page.evaluate("async (r) => (await fetch(r.url, r.init)).status", request)
            assert plain == 403
            equipped = page.evaluate(
                "async (r) => (await qiskitRuntimeFetch(r.url, r.init)).status", request
            )
            assert equipped == 201
            created = page.locator("[id$='-create_session'] .live-responses-table").first
            created.scroll_into_view_if_needed()
            shot = page.screenshot(full_page=False)
    elsewhere = [url for url in requested if not url.startswith(origin)]
    assert not elsewhere, elsewhere
    assert any(url.endswith("openapi.json") for url in requested), requested
    violations = [line for line in console if "Content Security Policy" in line]
    assert not violations, violations
    target = artifacts_dir() / "api-docs.png"
    target.write_bytes(shot)
    with capsys.disabled():
        print(f"\nscreenshot: {target} (browser part: {time.monotonic() - started:.1f} s)")


def test_the_page_needs_a_login_in_the_browser_too(docs_server: ServerProcess) -> None:
    """Without the token the browser lands on Jupyter's login page, not on the API."""
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{docs_server.api}/docs")
        assert "/login" in page.url
        assert page.locator(".opblock").count() == 0

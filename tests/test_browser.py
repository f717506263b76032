"""End to end in a real browser: JupyterLab runs the quickstart notebook, the job panel follows.

The test starts a Jupyter server with JupyterLab on 127.0.0.1, opens notebooks/quickstart.ipynb
in headless Chromium (Debian's ``chromium``, driven by Playwright's Python package; never
``playwright install``), runs all cells from the Run menu, and waits until the panel that
``%qiskit_runtime`` showed lists the Bell job as Completed. A screenshot of the page is kept in
``$QISKIT_RUNTIME_TEST_ARTIFACTS`` (default: ``test-artifacts/`` at the repository's root) and
in the test's temporary directory. ``make test`` installs Chromium when it is missing; without
it the test fails and says how to get it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .servers import ServerProcess

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # the test says so
    sync_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
#: A Chromium executable to use instead of the one on PATH.
CHROMIUM_ENV = "QISKIT_RUNTIME_CHROMIUM"
#: Where the screenshot is kept (default: test-artifacts/ at the repository's root).
ARTIFACTS_ENV = "QISKIT_RUNTIME_TEST_ARTIFACTS"
#: Bounds on the browser's waits, in milliseconds: guards against a hang, not timing checks.
PAGE_MS = 60_000
CELLS_MS = 120_000


def chromium_executable() -> str:
    """The Chromium to drive; the test fails, saying how to get one, if there is none."""
    for candidate in (os.environ.get(CHROMIUM_ENV), "chromium", "chromium-browser"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    pytest.fail(
        "The browser test needs Chromium and found none on PATH. `make test` installs Debian's "
        "`chromium` package when run as root or with sudo; otherwise install it "
        f"(`apt-get install chromium`) or set {CHROMIUM_ENV} to a Chromium executable. "
        "(`playwright install` is not used: its download is not reachable.)"
    )


#: Whether the notebook has its kernel: JupyterLab says "idle" with "No Kernel" before it starts
#: one, then initializing, connecting, unknown, and idle again with the kernel's name.
KERNEL_READY = """() => {
    const name = document.querySelector('.jp-Toolbar-kernelName');
    const state = document.querySelector('.jp-Notebook-ExecutionIndicator');
    return name && name.innerText.includes('Python 3') && state
        && state.getAttribute('data-status') === 'idle';
}"""


def run_all(page: Any, timeout: float = 90.0) -> None:
    """Run > Run All Cells, and see a cell finish. Should JupyterLab not be ready after all, a
    run is ignored, or its cells are dropped while it asks which kernel to start: so such a
    question is dismissed, and all cells run again while none is queued, until one ran."""
    queued = page.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[\*\]"))
    ran = page.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[\d+\]"))
    dialog = page.locator(".jp-Dialog")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ran.count():
            return
        try:
            if dialog.count():
                print("dismissing a dialog of JupyterLab:", dialog.first.inner_text())
                page.keyboard.press("Escape")
            elif not queued.count():
                print("Run > Run All Cells")
                page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click(
                    timeout=5_000
                )
                page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click(timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")  # a menu left open
        page.wait_for_timeout(2_000)
    raise AssertionError(f"Run All Cells ran no cell in {timeout} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A Jupyter server with JupyterLab and the extension, the quickstart in its root
    directory, one warm worker."""
    workdir = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, workdir / NOTEBOOK.name)
    # No toast asking about Jupyter news over the page (user settings live in the config dir).
    settings = workdir / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    with ServerProcess(
        workdir,
        "lab-token",
        "--QiskitRuntimeApp.pool_size=1",
        "--QiskitRuntimeApp.prestart_workers=1",
    ) as proc:
        yield proc


def artifacts_dir() -> Path:
    """Where screenshots are kept: ``$QISKIT_RUNTIME_TEST_ARTIFACTS`` or test-artifacts/."""
    directory = Path(os.environ.get(ARTIFACTS_ENV) or ROOT / "test-artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium driven by Playwright, closed at the end; the test fails, saying how to
    get them, if Playwright's Python package or Chromium is missing."""
    if sync_playwright is None:
        pytest.fail("The browser test needs Playwright's Python package: pip install -e '.[test]'.")
    executable = chromium_executable()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def screenshot_on_failure(
    page: Any, name: str, capsys: pytest.CaptureFixture[str], console: list[str] | None = None
) -> Iterator[None]:
    """On a failure, a full-page screenshot ``name`` in ``artifacts_dir()``, named in the run's
    output (with the browser's ``console`` messages, if given)."""
    try:
        yield
    except BaseException:
        failed = artifacts_dir() / name
        page.screenshot(path=str(failed), full_page=True)
        with capsys.disabled():
            shown = "" if console is None else f"\nconsole: {console}"
            print(f"\nscreenshot of the failure: {failed}{shown}")
        raise


def test_quickstart_in_jupyterlab_shows_the_job_completed_in_the_panel(
    lab: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run All in JupyterLab: every cell runs, the panel lists the quickstart's Bell job and
    shows it Completed, and its details show the histogram; the screenshot is kept (on a
    failure too, as job-panel-failed.png)."""
    started = time.monotonic()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(PAGE_MS)
        with screenshot_on_failure(page, "job-panel-failed.png", capsys):
            page.goto(f"{lab.url}lab/tree/{NOTEBOOK.name}?token={lab.token}")
            page.wait_for_function(KERNEL_READY)
            run_all(page)

            bell = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^job [0-9a-f]+"))
            bell.first.wait_for(timeout=CELLS_MS)
            match = re.search(r"job ([0-9a-f]+)", bell.first.inner_text())
            assert match, bell.first.inner_text()
            job_id = match.group(1)
            row = page.locator(".qrt-row", has_text=job_id)
            try:
                row.locator(".qrt-status", has_text="Completed").wait_for(timeout=CELLS_MS)
            except PlaywrightTimeout:
                # Seen once in CI (the job Completed on the server, the row never said so): keep
                # what the panel showed, in view for the screenshot, to tell why.
                panel = page.locator(".qrt-panel")
                panel.scroll_into_view_if_needed()
                raise AssertionError(
                    f"The panel never showed job {job_id} Completed; it showed:\n"
                    f"{panel.inner_text() if panel.count() else '(no panel)'}"
                ) from None
            page.locator(".jp-OutputArea-output", has_text="<ZZ> =").wait_for(timeout=CELLS_MS)
            assert page.locator(".qrt-panel").count() == 1
            assert "sampler" in row.inner_text() and "fake_manila@aer_ideal" in row.inner_text()
            texts = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert not [t for t in texts if "Traceback (most recent call last)" in t], texts
            prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            numbers = [re.sub(r"\D", "", prompt) for prompt in prompts]  # each once, in order
            assert numbers == [str(n) for n in range(1, len(prompts) + 1)], prompts

            row.locator("button", has_text=job_id).click()  # its details: the histogram
            page.locator(".qrt-details .qrt-histogram").wait_for()
            page.locator(".qrt-panel").scroll_into_view_if_needed()
            shot = page.screenshot(full_page=True)
    targets = (tmp_path / "job-panel.png", artifacts_dir() / "job-panel.png")
    for target in targets:
        target.write_bytes(shot)
    with capsys.disabled():  # shown in the run's output even when pytest captures it
        print(
            f"\nscreenshot: {' and '.join(map(str, targets))} (browser part: "
            f"{time.monotonic() - started:.1f} s)"
        )

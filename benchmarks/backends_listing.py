"""Speed of ``service.backends()`` and ``service.least_busy(...)``: the server's share.

The stock client builds a backend object for every backend it lists: it asks for each one's
configuration, and for the status of each one a status filter (``operational=True``) looks at.
Most of that time is the client's own (parsing configurations, deep copies, building objects);
what the server adds is the HTTP round trips and the time it takes to answer them.

Each call is timed two ways, on a fresh ``QiskitRuntimeService`` per run (as a notebook builds
one with ``%qiskit_runtime``; its construction is not timed), on the same server:

- ``server``: the unmodified client over HTTP (127.0.0.1) to this package's server, started by
  the script with its default settings (IBM device names included, as ``ibm_kingston``).
- ``in-process copy``: the same client calls, with ``requests.Session.send`` answering in
  process with a copy of the server's recorded answer to the same request (its body bytes,
  status and headers; the client decodes it as it would any answer). This is the client's own
  cost of building the same backends, with no server and no network.

The ratio of the two medians is the target (at most 1.5): the server's share of the call.

The calls: ``service.backends()``; ``service.least_busy(simulator=False, operational=True,
min_num_qubits=100)`` (the filters of IBM's tutorials); ``service.backend("ibm_kingston")`` (an
IBM device name, when the server has them).

Run it from the repository root: ``python benchmarks/backends_listing.py [--runs N] [--quick]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import (  # noqa: E402
    STATS_ALIGN,
    Stats,
    Target,
    add_common_arguments,
    finish,
    progress,
    ratio,
    stats_header,
)
from benchmarks.server import BenchmarkServer, stock_service  # noqa: E402

SERVER = "server"
COPY = "in-process copy"
#: The most the server way may take, as a ratio to the in-process copy.
TARGET_RATIO = 1.5
LEAST_BUSY = {"simulator": False, "operational": True, "min_num_qubits": 100}
DEVICE_NAME = "ibm_kingston"


class Recorder:
    """Records the client's HTTP answers by request, and replays copies of them in process."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = {}
        self.requests = 0
        self.misses = 0
        self._original: Any = None

    def _key(self, request: Any) -> tuple[str, str]:
        return (str(request.method), str(request.url))

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Send for real, and keep every answer."""
        import requests

        original = requests.Session.send
        recorder = self

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            response = original(session, request, **kwargs)
            recorder.requests += 1
            recorder.answers[recorder._key(request)] = (
                response.status_code,
                dict(response.headers),
                response.content,
            )
            return response

        requests.Session.send = send  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            requests.Session.send = original  # type: ignore[method-assign]

    @contextmanager
    def replaying(self) -> Iterator[None]:
        """Answer every request recorded before with a fresh copy of its answer; send the
        others for real (counted as misses)."""
        import requests
        from requests.structures import CaseInsensitiveDict

        original = requests.Session.send
        recorder = self

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            recorder.requests += 1
            answer = recorder.answers.get(recorder._key(request))
            if answer is None:
                recorder.misses += 1
                return original(session, request, **kwargs)
            status, headers, content = answer
            response = requests.Response()
            response.status_code = status
            response.headers = CaseInsensitiveDict(headers)
            response._content = bytes(content)
            response.encoding = "utf-8"
            response.url = request.url
            response.request = request
            return response

        requests.Session.send = send  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            requests.Session.send = original  # type: ignore[method-assign]


def calls(device_names: bool) -> dict[str, Callable[[Any], Any]]:
    """The timed calls, each taking a fresh service."""
    timed: dict[str, Callable[[Any], Any]] = {
        "service.backends()": lambda s: s.backends(),
        "service.least_busy(simulator=False, operational=True, min_num_qubits=100)": (
            lambda s: s.least_busy(**LEAST_BUSY)
        ),
    }
    if device_names:
        timed[f'service.backend("{DEVICE_NAME}")'] = lambda s: s.backend(DEVICE_NAME)
    return timed


def measure(
    server: BenchmarkServer, call: Callable[[Any], Any], runs: int
) -> tuple[dict[str, list[float]], int, int]:
    """Seconds per run of ``call`` each way (in rounds: one run of each way per round, after
    one recorded warm-up run), the requests per call and the replay misses."""
    recorder = Recorder()
    with recorder.recording():
        call(stock_service(server.url, server.token))
    seconds: dict[str, list[float]] = {SERVER: [], COPY: []}
    per_call = 0
    for _ in range(runs):
        for way in (SERVER, COPY):
            service = stock_service(server.url, server.token)
            before = recorder.requests
            if way == SERVER:
                started = time.perf_counter()
                call(service)
                seconds[way].append(time.perf_counter() - started)
                continue
            with recorder.replaying():
                started = time.perf_counter()
                call(service)
                seconds[way].append(time.perf_counter() - started)
            per_call = recorder.requests - before
    return seconds, per_call, recorder.misses


def main() -> None:
    """Run the benchmark and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per way (default 7)")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="a further server option, e.g. --server-arg=--QiskitRuntimeApp.device_executor= "
        "(repeatable)",
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 2)
    warnings.simplefilter("ignore")
    # The client warns on each construction that it ignores saved accounts; not what is measured.
    logging.getLogger("qiskit_ibm_runtime").setLevel(logging.ERROR)
    started = time.perf_counter()
    import requests

    rows = [
        f"| call | way | {stats_header('ms')} | requests per call | ratio to the copy | target |",
        f"|---|---|{STATS_ALIGN}|---:|---:|---|",
    ]
    targets = []
    with BenchmarkServer("benchmark-token", *args.server_arg) as server:
        listing = requests.get(f"{server.api}/backends", headers=server.headers, timeout=30)
        names = [d["name"] for d in listing.json()["devices"]]
        for title, call in calls(DEVICE_NAME in names).items():
            progress(f"backends_listing: {title}")
            seconds, per_call, misses = measure(server, call, args.runs)
            served, copied = Stats.of(seconds[SERVER]), Stats.of(seconds[COPY])
            r = ratio(served, copied)
            met = r <= TARGET_RATIO
            rows.append(f"| `{title}` | {COPY} | {copied.cells(1e3)} | {per_call} | 1.00 | |")
            rows.append(
                f"| `{title}` | {SERVER} | {served.cells(1e3)} | {per_call} | {r:.2f} | "
                f"{'met' if met else '**missed**'} |"
            )
            targets.append(
                Target(
                    name=f"`{title}` over HTTP within {TARGET_RATIO}x its in-process copy",
                    measured=f"{r:.2f}x: {served.median * 1e3:.0f} ms against "
                    f"{copied.median * 1e3:.0f} ms ({misses} requests not in the copy)",
                    met=met,
                    bound=""
                    if met
                    else f"the server's answers and the HTTP round trips: {per_call} requests, "
                    f"{(served.median - copied.median) * 1e3 / max(per_call, 1):.1f} ms more "
                    "per request than the copy",
                )
            )
    load = os.getloadavg()
    body = [
        f"The server lists {len(names)} backends "
        f"({sum('@' not in n for n in names)} of them IBM device names). Each call runs on a "
        "fresh `QiskitRuntimeService` (unmodified client, built as docs/connecting.md shows; "
        "not timed): over HTTP to the server, and with every request answered in process by a "
        "copy of the server's recorded answer (the client's own cost). Times in ms; "
        f"{args.runs} runs of each way, in rounds. Load average at the end: "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.",
        "",
        *rows,
    ]
    finish(args, started, "backends_listing", "Backend listing and least_busy", body, targets)


if __name__ == "__main__":
    main()

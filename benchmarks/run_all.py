"""Run every benchmark scenario and write docs/benchmarks.md (what ``make benchmarks`` runs).

Each scenario is a script of its own in this directory, run here in a fresh interpreter with
``--json``; each starts and stops its own Jupyter server on 127.0.0.1. Their sections are put
together under the machine's description and a summary of the targets met and missed. A
scenario that fails is reported as such (its last output lines), the others still run, and the
exit status is then 1; a missed target is a result, not a failure.

    python benchmarks/run_all.py [--quick] [--only latency,memory] [--output docs/benchmarks.md]

Any further arguments after ``--`` go to every scenario script.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import Section, Target, machine, sentence  # noqa: E402

#: The scenarios, in the order of the report: (key, script, title).
SCENARIOS = [
    ("latency", "latency.py", "Latency"),
    ("variational", "variational.py", "Variational loop"),
    ("throughput", "throughput.py", "Throughput"),
    ("idle_qubits", "idle_qubits.py", "Idle qubits"),
    ("worker_profile", "worker_profile.py", "Worker overhead, step by step"),
    ("backends_listing", "backends_listing.py", "Backend listing and least_busy"),
    ("noisy_wide", "noisy_wide.py", "Wide noisy circuits"),
    ("mitigation", "mitigation.py", "Error mitigation"),
    ("scale", "scale.py", "Scale"),
    ("responsiveness", "responsiveness.py", "Responsiveness"),
    ("memory", "memory.py", "Memory"),
    ("soak", "soak.py", "Soak"),
]


def run_scenario(key: str, script: str, title: str, extra: list[str], timeout: float) -> Section:
    """Run one scenario script; its section, or a section that says how it failed."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jqr-bench-") as tmp:
        json_path = Path(tmp) / f"{key}.json"
        command = [sys.executable, str(ROOT / "benchmarks" / script), "--json", str(json_path)]
        command += extra
        print(f"== {title}: {' '.join(command[1:])}", flush=True)
        tail: deque[str] = deque(maxlen=30)
        # A session of its own, so that a scenario stopped for its time limit takes its servers,
        # workers and client processes with it.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None
        timed_out = threading.Event()

        def stop() -> None:
            """Interrupt the script (its servers stop on the way out), then kill what is left."""
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(60)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        def expire() -> None:
            timed_out.set()
            stop()

        watchdog = threading.Timer(timeout, expire)
        watchdog.start()
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
                tail.append(line.rstrip())
            code = process.wait()
        except KeyboardInterrupt:
            stop()
            raise
        finally:
            watchdog.cancel()
        if timed_out.is_set():
            tail.append(f"(stopped after its time limit, {timeout:.0f} s)")
        if code == 0 and json_path.exists():
            return Section.from_json(json_path.read_text())
    output = "\n".join(tail)
    return Section(
        key=key,
        title=title,
        body=f"The scenario failed (exit status {code}). Its last output:\n\n```\n{output}\n```",
        targets=[
            Target(
                f"the {key} scenario runs to its end",
                f"exit status {code}",
                None,
                "the script failed or was stopped; its last output is in its section",
            )
        ],
        seconds=time.perf_counter() - started,
        quick="--quick" in extra,
        failed=True,
    )


def summary(sections: list[Section]) -> str:
    """The targets of every section: a table, then what bounds each miss."""
    lines = ["| scenario | target | measured | result |", "|---|---|---|---|"]
    misses = []
    for number, section in enumerate(sections, 1):
        for t in section.targets:
            measured = t.measured.replace("|", "/")
            lines.append(f"| {number}. {section.title} | {t.name} | {measured} | {t.verdict} |")
            if t.met is not True:
                misses.append(
                    f"- {section.title}: {t.name}. {sentence(t.bound or 'no bound given')}"
                )
    met = sum(1 for s in sections for t in s.targets if t.met is True)
    total = sum(len(s.targets) for s in sections)
    text = [f"{met} of {total} targets met.", "", *lines]
    if misses:
        text += ["", "What bounds each target missed:", "", *misses]
    return "\n".join(text)


def document(sections: list[Section], info: dict[str, str], quick: bool, seconds: float) -> str:
    """The whole of docs/benchmarks.md."""
    mode = (
        "\n\n**Quick mode** (`--quick`): small run counts, to check that the scripts work; "
        "these are not figures to quote."
        if quick
        else ""
    )
    machine_rows = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()]
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make benchmarks` (`python benchmarks/run_all.py"
        f"{' --quick' if quick else ''}`) in {seconds / 60:.1f} minutes; do not edit by hand. "
        "Each scenario is a script in `benchmarks/` that starts its own Jupyter server with the "
        "extension on 127.0.0.1 and stops it, and can be run alone (it prints its section). "
        "Every figure is a median with its minimum, maximum and number of runs, next to the "
        "ratio to its baseline measured in the same run. The latency, throughput, CPU and "
        "idle-qubit targets are those of issue 13 (they replace issue 8's), the backend "
        "listing's and the wide noisy circuit's those of issue 15, the error mitigation's that "
        "of issue 18; a miss is listed with what bounds it. `benchmarks/server_profile.py` "
        "profiles the server process on a burst. CI does not run the benchmarks." + mode,
        "",
        "## Machine",
        "",
        "\n".join(machine_rows),
        "",
        "## Summary",
        "",
        summary(sections),
        "",
    ]
    for number, section in enumerate(sections, 1):
        parts.append(section.markdown(number))
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run counts in every script")
    parser.add_argument(
        "--only", help=f"comma-separated scenarios (of {', '.join(k for k, *_ in SCENARIOS)})"
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the report"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per scenario (default 1800)"
    )
    parser.add_argument("extra", nargs="*", help="after --: arguments for every scenario script")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else [k for k, *_ in SCENARIOS]
    unknown = set(chosen) - {k for k, *_ in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    info = machine()
    extra = (["--quick"] if args.quick else []) + args.extra
    sections = [
        run_scenario(key, script, title, extra, args.timeout)
        for key, script, title in SCENARIOS
        if key in chosen
    ]
    info["load average at the end (1, 5, 15 min)"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = document(sections, info, args.quick, time.perf_counter() - started)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"\nWrote {args.output}")
    print(summary(sections))
    failed = [section.key for section in sections if section.failed]
    if failed:
        sys.exit(f"Scenarios that did not run to their end: {', '.join(failed)}")


if __name__ == "__main__":
    main()

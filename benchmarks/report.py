"""The common format of the benchmark scenarios: figures, targets, sections, the machine.

Every scenario script (latency.py, throughput.py, scale.py, responsiveness.py, memory.py,
soak.py) builds a :class:`Section` (``finish``): its markdown (what was measured and how, and
tables whose every figure is a median with its minimum, maximum and number of runs, next to the
ratio to a baseline measured in the same run) and the :class:`Target` results it was measured
against. Run alone, a script prints its section; with ``--json FILE`` it also writes the section
there, which is how ``run_all.py`` collects the sections into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The distributions whose versions the report names.
PACKAGES = (
    "qiskit",
    "qiskit-aer",
    "qiskit-ibm-runtime",
    "jupyter_server",
    "jupyter-qiskit-runtime",
)


@dataclass(frozen=True)
class Stats:
    """Measurements of one figure (seconds, bytes, jobs per second, ...)."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: list[float] | tuple[float, ...]) -> Stats:
        if not values:
            raise ValueError("no measurements")
        return cls(tuple(float(v) for v in values))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile (linear interpolation between the closest ranks)."""
        ordered = sorted(self.values)
        if len(ordered) == 1:
            return ordered[0]
        rank = (len(ordered) - 1) * p / 100
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)

    def cells(self, scale: float = 1.0, digits: int = 1) -> str:
        """``runs | median | min | max`` table cells, each value times ``scale``."""
        return (
            f"{self.n} | {self.median * scale:.{digits}f} | {self.min * scale:.{digits}f} | "
            f"{self.max * scale:.{digits}f}"
        )

    def brief(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """``median (min-max, n runs)`` in words."""
        u = f" {unit}" if unit else ""
        return (
            f"{self.median * scale:.{digits}f}{u} (min {self.min * scale:.{digits}f}, "
            f"max {self.max * scale:.{digits}f}, {self.n} run{'s' if self.n != 1 else ''})"
        )


def stats_header(unit: str = "") -> str:
    """The header cells of ``Stats.cells``: ``runs | median (unit) | min (unit) | max (unit)``."""
    u = f" ({unit})" if unit else ""
    return f"runs | median{u} | min{u} | max{u}"


#: The alignment row cells of ``Stats.cells``.
STATS_ALIGN = "---:|---:|---:|---:"


def ratio(value: Stats | float, baseline: Stats | float) -> float:
    """The median of ``value`` over the median of ``baseline``."""
    a = value.median if isinstance(value, Stats) else value
    b = baseline.median if isinstance(baseline, Stats) else baseline
    return a / b if b else float("inf")


@dataclass
class Target:
    """A target from the issue, and how the run measured against it."""

    #: What the target says, in words ("stock client ≤ 3x the floor, Bell sampler @aer_ideal").
    name: str
    #: The measured value, in words ("2.4x: 31.0 ms against 12.9 ms").
    measured: str
    #: Whether it was met; None when it could not be measured (the reason is in ``bound``).
    met: bool | None
    #: On a miss, what bounds the figure (measured in the same run where possible).
    bound: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "**not measured**"}[self.met]


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


@dataclass
class Section:
    """One scenario's part of docs/benchmarks.md."""

    key: str
    title: str
    body: str
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0
    quick: bool = False
    #: The scenario's script did not run to its end (the section says how it failed).
    failed: bool = False

    def markdown(self, number: int | None = None) -> str:
        heading = f"## {number}. {self.title}" if number is not None else f"## {self.title}"
        parts = [heading, "", self.body.strip(), ""]
        if self.targets:
            parts += ["Targets:", ""]
            for t in self.targets:
                line = f"- {t.verdict}: {t.name}. Measured: {t.measured}."
                if t.bound and t.met is not True:
                    line += f" What bounds it: {sentence(t.bound)}"
                parts.append(line)
            parts.append("")
        mode = ", quick mode" if self.quick else ""
        parts.append(f"_This scenario took {self.seconds:.0f} s{mode}._")
        return "\n".join(parts) + "\n"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Section:
        data = json.loads(text)
        data["targets"] = [Target(**t) for t in data.get("targets", [])]
        return cls(**data)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--quick``, ``--json`` and ``--output``, which every scenario script takes."""
    parser.add_argument(
        "--quick", action="store_true", help="small run counts, to check that the script works"
    )
    parser.add_argument("--json", type=Path, help="also write the section as JSON (run_all.py)")
    parser.add_argument("--output", type=Path, help="also write the section's markdown here")


def emit(section: Section, args: argparse.Namespace) -> None:
    """Print the section's markdown and write it where the arguments say."""
    text = section.markdown()
    print(text, flush=True)
    if getattr(args, "output", None) is not None:
        args.output.write_text(text)
    if getattr(args, "json", None) is not None:
        args.json.write_text(section.to_json())


def finish(
    args: argparse.Namespace,
    started: float,
    key: str,
    title: str,
    body: list[str],
    targets: list[Target],
) -> None:
    """Emit the scenario's section (``emit``): ``body`` its lines, ``started`` the
    ``time.perf_counter()`` at the scenario's start."""
    section = Section(
        key=key,
        title=title,
        body="\n".join(body),
        targets=targets,
        seconds=time.perf_counter() - started,
        quick=args.quick,
    )
    emit(section, args)


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries the section)."""
    print(f"  [{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def cpu_model() -> str:
    """The CPU's model name, as the operating system says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    """The checkout's commit, with ``+changes`` when the working tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (commit or "unknown") + (" +changes" if dirty else "")


def durable_commit(journal_mode: str = "DELETE", samples: int = 40) -> Stats:
    """Seconds of one small SQLite commit as the job store makes them (``synchronous=FULL``, in
    ``journal_mode``), in the temporary directory where the benchmark servers keep their data."""
    with tempfile.TemporaryDirectory(prefix="jqr-commit-") as directory:
        db = sqlite3.connect(Path(directory) / "commit.sqlite3", isolation_level=None)
        try:
            db.execute(f"PRAGMA journal_mode={journal_mode}")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("CREATE TABLE t (x INTEGER)")
            times = []
            for i in range(samples):
                start = time.perf_counter()
                db.execute("BEGIN")
                db.execute("INSERT INTO t VALUES (?)", (i,))
                db.execute("COMMIT")
                times.append(time.perf_counter() - start)
        finally:
            db.close()
    return Stats.of(times)


def machine() -> dict[str, str]:
    """The machine and software the figures were taken on."""
    import psutil

    physical = psutil.cpu_count(logical=False)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    info = {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu_model(),
        "cores": f"{os.cpu_count()} logical, {physical} physical",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "operating system": platform.platform(),
        "load average at start (1, 5, 15 min)": load,
        "python": platform.python_version(),
    }
    for mode in ("DELETE", "WAL"):
        commit = durable_commit(mode)
        info[
            f"durable SQLite commit, journal {mode}, synchronous FULL, in {tempfile.gettempdir()}"
        ] = commit.brief(1e3, 2, "ms")
    info.update({name: package_version(name) for name in PACKAGES})
    info["commit"] = git_revision()
    return info

"""Before and after: the same benchmarks on two revisions, taking turns, on this machine.

    python scripts/bench_compare.py [--before c65f1f3] [--after HEAD] [--rounds 3]
                                    [--only startup import read rebuild http]
                                    [--postgres URL_BEFORE URL_AFTER] [--json FILE]

Each revision is checked out once as a git worktree under --cache (default .bench/<sha>) with
a virtual environment of its own, made by that revision's scripts/setup.sh; both are reused by
later runs. Each revision is then measured by its own code: its own scripts/bench.py and the
scripts it delegates to, run with its own .venv/bin/python, so a restructured package is
imported the way that revision imports it. Every benchmark runs once per revision per round,
the two revisions back to back, the order swapped each round (before/after, after/before, ...):
a busy moment of the shared machine falls on both. The table gives, per figure, the range
over the rounds for each revision and the ratio of their medians (after / before).

The benchmarks (sizes chosen so that a comparison of 3 rounds takes 10-15 minutes on a 2-core
machine, more when it is busy; change them with the --*-args options, which replace the
defaults):
  startup   `lifecycle --help`, wall time, 3 invocations a round
  import    scripts/bench.py import   (events/s)
  read      scripts/bench.py read     (one 1,000-event lead: cold and cached load, ms)
  rebuild   scripts/bench.py rebuild  (events/s in one process and with `--workers 2`)
  http      scripts/bench.py http     (appends/s at saturation, and p50/p99 of an open-loop
            load of 300 appends/s, the same for both revisions (--half-rate 300: below
            either's saturation here), for `serve --workers 1` and `2`)

On SQLite by default, each run on a fresh file. With --postgres, the benchmarks also run on
PostgreSQL: the before's on URL_BEFORE and the after's on URL_AFTER (LIFECYCLE_TEST_DATABASE_URL
for that revision's scripts, which make a fresh schema per run). `serve` listens on a port of
--ports (default 18400-18499). A run that fails or prints no figure is reported with the end
of its output, and the comparison goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHES = ("startup", "import", "read", "rebuild", "http")
DEFAULT_ARGS = {
    "import": "--leads 5000",
    "read": "--events 1000 --repeat 50",
    "rebuild": "--events 200000 --rebuild-workers 1 2 --lag-seconds 0",
    "http": (
        "--seconds 4 --leads 200 --clients 8 16 --half-rate 300 --half-runs 1 --settle 2 "
        "--serve-workers 1 2"
    ),
}
# Runs a revision's benchmark script with every ("127.0.0.1", 0) bind (its probe for a free
# port for `serve`) moved into the given range of ports.
PORT_SHIM = """
import os, runpy, socket, sys
low, high = map(int, sys.argv[1].split("-"))
script = sys.argv[2]
_bind = socket.socket.bind
def bind(self, address):
    if isinstance(address, tuple) and tuple(address[:2]) == ("127.0.0.1", 0):
        for port in range(low, high + 1):
            try:
                return _bind(self, ("127.0.0.1", port))
            except OSError:
                continue
    return _bind(self, address)
socket.socket.bind = bind
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""


# --------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    higher_is_better: bool


Figures = dict[str, float]  # metric name -> value, from one run


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _engine(name: str) -> str:
    return "sqlite" if name == "given" else name


def parse_import(output: str) -> Figures:
    found = re.finditer(r"^import (\w+): .* = ([\d,.]+) events/s", output, re.M)
    return {f"import {_engine(m[1])}": _number(m[2]) for m in found}


def parse_read(output: str) -> Figures:
    pattern = r"^lead show (\w+): .*read ([\d.]+) ms, then median ([\d.]+) ms"
    figures: Figures = {}
    for m in re.finditer(pattern, output, re.M):
        figures[f"read cold {_engine(m[1])}"] = float(m[2])
        figures[f"read cached {_engine(m[1])}"] = float(m[3])
    return figures


def parse_rebuild(output: str) -> Figures:
    figures: Figures = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        result = json.loads(line)
        engine = "postgres" if result["database"].startswith("postgres") else "sqlite"
        for run in result.get("rebuild", []):
            figures[f"rebuild w{run['workers']} {engine}"] = float(run["events_per_second"])
    return figures


def parse_http(output: str) -> Figures:
    pattern = (
        r"^(\w+), serve --workers (\d+): saturation ([\d,]+) appends/s .*?"
        r"p50 ([\d.]+) ms, p99 ([\d.]+) ms"
    )
    figures: Figures = {}
    for m in re.finditer(pattern, output, re.M):
        where = f"w{m[2]} {m[1]}"
        figures[f"http saturation {where}"] = _number(m[3])
        figures[f"http p50 {where}"] = float(m[4])
        figures[f"http p99 {where}"] = float(m[5])
    return figures


PARSERS: dict[str, Callable[[str], Figures]] = {
    "import": parse_import,
    "read": parse_read,
    "rebuild": parse_rebuild,
    "http": parse_http,
}


def metric_of(name: str) -> Metric:
    """What a figure's name measures: its unit and which way is better."""
    if name.startswith("startup"):
        return Metric(name, "s", False)
    if name.startswith(("read", "http p")):
        return Metric(name, "ms", False)
    if name.startswith("http saturation"):
        return Metric(name, "appends/s", True)
    return Metric(name, "events/s", True)


# --------------------------------------------------------------------------- summary
@dataclass
class Samples:
    """Every value of every figure, per revision, and every failed run."""

    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # figure -> round -> side -> values: the two revisions' runs of a round ran back to back
    rounds: dict[str, dict[int, dict[str, list[float]]]] = field(default_factory=dict)

    def add(self, side: str, figures: Figures, round_number: int = 0) -> None:
        for name, value in figures.items():
            self.values.setdefault(name, {}).setdefault(side, []).append(value)
            by_round = self.rounds.setdefault(name, {}).setdefault(round_number, {})
            by_round.setdefault(side, []).append(value)

    def after_better(self, name: str) -> str:
        """In how many rounds with both revisions' figure the after's was the better one:
        "4/5" (each round's two runs were back to back, so a busy moment hit both)."""
        higher = metric_of(name).higher_is_better
        both = [r for r in self.rounds.get(name, {}).values() if "before" in r and "after" in r]
        better = 0
        for sides in both:
            before, after = statistics.median(sides["before"]), statistics.median(sides["after"])
            better += after > before if higher else after < before
        return f"{better}/{len(both)}"


def _format(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def value_range(values: list[float]) -> str:
    """The values' "min–max" (one value alone), "–" when there is none."""
    if not values:
        return "–"
    low, high = min(values), max(values)
    return _format(low) if low == high else f"{_format(low)}–{_format(high)}"


def ratio(before: list[float], after: list[float]) -> str:
    """after's median / before's median, as "1.07×", or "–" when either has no value."""
    if not before or not after or statistics.median(before) == 0:
        return "–"
    return f"{statistics.median(after) / statistics.median(before):.2f}×"


def table(samples: Samples) -> str:
    """A Markdown table: figure, unit, which way is better, both ranges, the ratio."""
    rows = [
        "| figure | unit | better | before (min–max) | after (min–max) | after / before "
        "| rounds after better |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in samples.values:  # in the order the benchmarks ran
        metric, sides = metric_of(name), samples.values[name]
        before, after = sides.get("before", []), sides.get("after", [])
        better = "higher" if metric.higher_is_better else "lower"
        rows.append(
            f"| {name} | {metric.unit} | {better} | {value_range(before)} "
            f"(n={len(before)}) | {value_range(after)} (n={len(after)}) | "
            f"{ratio(before, after)} | {samples.after_better(name)} |"
        )
    return "\n".join(rows)


# --------------------------------------------------------------------------- revisions
@dataclass(frozen=True)
class Revision:
    side: str  # "before" or "after"
    sha: str
    folder: Path
    database_url: str | None  # PostgreSQL for this revision's runs, if any

    @property
    def python(self) -> Path:
        return self.folder / ".venv" / "bin" / "python"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def prepare(side: str, revision: str, cache: Path, database_url: str | None) -> Revision:
    """A worktree of `revision` under `cache` with its own .venv (both made once, reused)."""
    sha = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    folder = cache / sha[:12]
    if not (folder / ".git").exists():
        cache.mkdir(parents=True, exist_ok=True)
        git("worktree", "add", "--detach", "--force", str(folder), sha)
    setup = folder / "scripts" / "setup.sh"
    if setup.exists():
        subprocess.run([str(setup)], cwd=folder, check=True)
    else:  # a revision older than scripts/setup.sh
        subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=folder, check=True)
        pip = [".venv/bin/python", "-m", "pip", "install", "--quiet", "-e", ".[dev]"]
        subprocess.run(pip, cwd=folder, check=True)
    return Revision(side, sha, folder, database_url)


def command(revision: Revision, bench: str, args: argparse.Namespace) -> list[str]:
    """The revision's own scripts/bench.py for `bench`, run with the revision's python; with
    PostgreSQL the script's own engine choice (SQLite and PostgreSQL), else SQLite only."""
    extra = shlex.split(getattr(args, f"{bench}_args"))
    script = str(revision.folder / "scripts" / "bench.py")
    base = [str(revision.python), "-c", PORT_SHIM, args.ports, script]
    postgres = revision.database_url is not None
    if bench in ("import", "read"):
        where = [] if postgres else ["--database-url", "sqlite:///{folder}/bench.db"]
        return [*base, *where, bench, *extra]
    if bench == "rebuild":
        where = [] if postgres else ["--database-url", "sqlite:///{folder}/bench.db"]
        return [*base, bench, *where, *extra]
    engines = ["--engine", "sqlite", *(["--engine", "postgres"] if postgres else [])]
    # bench_http.py itself, not through bench.py: its load generator is a spawned process
    # whose results are classes of the script's `__main__`, which two nested run_path calls
    # (this shim's and bench.py's) leave unresolvable in the parent ("Can't get attribute").
    http = str(revision.folder / "scripts" / "bench_http.py")
    return [str(revision.python), "-c", PORT_SHIM, args.ports, http, *engines, *extra]


def run_once(
    revision: Revision, bench: str, args: argparse.Namespace, samples: Samples, number: int
) -> None:
    """One benchmark run of one revision in round `number`: its figures into `samples`, or
    its failure."""
    label = f"round {number} {bench} {revision.side}"
    if bench == "startup":
        lifecycle = str(revision.folder / ".venv" / "bin" / "lifecycle")
        for _ in range(3):
            started = time.perf_counter()
            helped = subprocess.run([lifecycle, "--help"], capture_output=True, check=False)
            if helped.returncode:
                samples.failures.append(f"{label}: `lifecycle --help` exited {helped.returncode}")
                return
            seconds = time.perf_counter() - started
            samples.add(revision.side, {"startup lifecycle --help": seconds}, number)
        return
    env = {**os.environ, "PYTHONPATH": ""}
    if revision.database_url:
        env["LIFECYCLE_TEST_DATABASE_URL"] = revision.database_url
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as folder:
        argv = [part.replace("{folder}", folder) for part in command(revision, bench, args)]
        try:
            done = subprocess.run(
                argv, cwd=folder, env=env, capture_output=True, text=True,
                timeout=args.timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            samples.failures.append(f"{label}: timed out after {args.timeout:.0f} s")
            return
    output = done.stdout + done.stderr
    try:
        figures = PARSERS[bench](done.stdout)
    except (ValueError, KeyError) as error:
        figures, output = {}, f"{output}\n(unreadable: {error!r})"
    if done.returncode or not figures:
        tail = " | ".join(output.strip().splitlines()[-3:])
        samples.failures.append(f"{label}: exited {done.returncode}, no figures: {tail}")
        return
    samples.add(revision.side, figures, number)
    if args.verbose:
        print(f"  {label}: {figures}", file=sys.stderr)


def rounds(count: int) -> Iterator[tuple[int, tuple[str, str]]]:
    """Each round's order of the two revisions: before first, then after first, and so on."""
    for n in range(count):
        yield n + 1, ("before", "after") if n % 2 == 0 else ("after", "before")


def compare(args: argparse.Namespace) -> Samples:
    urls = args.postgres or [None, None]
    revisions = {
        side: prepare(side, rev, args.cache, url)
        for side, rev, url in (("before", args.before, urls[0]), ("after", args.after, urls[1]))
    }
    for side, revision in revisions.items():
        print(f"{side}: {revision.sha[:12]} ({git('log', '-1', '--format=%s', revision.sha)})")
    samples = Samples()
    for number, order in rounds(args.rounds):
        for bench in args.only:
            for side in order:
                label = f"round {number} {bench} {side}"
                print(f"{time.strftime('%H:%M:%S')} {label}", file=sys.stderr, flush=True)
                run_once(revisions[side], bench, args, samples, number)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default="c65f1f3", help="revision (default: c65f1f3)")
    parser.add_argument("--after", default="HEAD", help="revision (default: HEAD)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default: 3)")
    parser.add_argument(
        "--only", nargs="+", choices=BENCHES, default=list(BENCHES), help="benchmarks to run"
    )
    parser.add_argument(
        "--postgres", nargs=2, metavar=("URL_BEFORE", "URL_AFTER"), help="also on PostgreSQL"
    )
    parser.add_argument("--cache", type=Path, default=REPO / ".bench", help="worktrees, venvs")
    parser.add_argument("--ports", default="18400-18499", help="ports for `serve` (low-high)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take")
    parser.add_argument("--json", type=Path, help="also write every value and failure here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each run's figures")
    for bench, default in DEFAULT_ARGS.items():
        parser.add_argument(
            f"--{bench}-args", default=default, metavar="ARGS",
            help=f"arguments of `bench.py {bench}` (default: {default!r})",
        )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.time()
    try:
        samples = compare(args)
    except subprocess.CalledProcessError as error:  # no worktree or no venv: nothing to measure
        detail = (error.stderr or "").strip() if isinstance(error.stderr, str) else ""
        print(f"cannot prepare a revision: {error} {detail}", file=sys.stderr)
        return 2
    minutes = (time.time() - started) / 60
    print(f"\n{args.rounds} rounds in {minutes:.1f} min; ratio = after's median / before's")
    print(table(samples))
    for failure in samples.failures:
        print(f"FAILED {failure}")
    if args.json:
        data = {"values": samples.values, "rounds": samples.rounds, "failures": samples.failures}
        args.json.write_text(json.dumps(data, indent=1))
    return 1 if samples.failures else 0


if __name__ == "__main__":
    sys.exit(main())

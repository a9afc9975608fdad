"""scripts/bench_compare.py's pure parts: reading the benchmarks' output, and the summary."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_compare.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_compare", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_compare"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench_compare = load()


def test_the_figures_of_each_benchmark_are_read_from_its_output():
    imported = (
        "import given: 2000 leads, 16000 lines, 16000 events in 1.23 s = 12,968 events/s "
        "(12,968 lines/s; 0 rejected)\n"
        "import postgres: 2000 leads, 16000 lines, 16000 events in 2.00 s = 8,000 events/s "
        "(8,000 lines/s; 0 rejected)"
    )
    assert bench_compare.parse_import(imported) == {
        "import sqlite": 12968.0,
        "import postgres": 8000.0,
    }
    read = "lead show sqlite: 1000 events, first (cold) read 6.5 ms, then median 0.1 ms (cached)"
    assert bench_compare.parse_read(read) == {"read cold sqlite": 6.5, "read cached sqlite": 0.1}
    rebuilt = (
        '  generated 1,000 events (9,000/s)\n{"database": "sqlite", "rebuild": ['
        '{"workers": 1, "events_per_second": 44935}, {"workers": 2, "events_per_second": 27389}]}'
    )
    assert bench_compare.parse_rebuild(rebuilt) == {
        "rebuild w1 sqlite": 44935.0,
        "rebuild w2 sqlite": 27389.0,
    }
    http = (
        "  sqlite, 2 worker(s),  8 clients: 2,000 appends/s; CPU per request: ...\n"
        "sqlite, serve --workers 2: saturation 2,159 appends/s (8 clients; CPU per request: "
        "load generator 90 µs, server 700 µs); at half load (1,080/s, the median run) "
        "p50 1.9 ms, p99 6.8 ms, max 20.0 ms, disk flush p99 1.0 ms"
    )
    assert bench_compare.parse_http(http) == {
        "http saturation w2 sqlite": 2159.0,
        "http p50 w2 sqlite": 1.9,
        "http p99 w2 sqlite": 6.8,
    }


def test_output_without_figures_gives_none():
    for parse in bench_compare.PARSERS.values():
        assert parse("Traceback (most recent call last):\n  ImportError: no module") == {}


def test_the_table_gives_each_revisions_range_and_the_ratio_of_the_medians():
    samples = bench_compare.Samples()
    pairs = [(10_000.0, 12_000.0), (11_000.0, 13_000.0), (12_000.0, 11_000.0)]
    for number, (before, after) in enumerate(pairs, 1):
        samples.add("before", {"import sqlite": before, "read cold sqlite": 8.0}, number)
        samples.add("after", {"import sqlite": after}, number)
    rows = bench_compare.table(samples).splitlines()
    assert rows[2] == (
        "| import sqlite | events/s | higher | 10,000–12,000 (n=3) | 11,000–13,000 (n=3) "
        "| 1.09× | 2/3 |"
    )
    assert rows[3] == "| read cold sqlite | ms | lower | 8.00 (n=3) | – (n=0) | – | 0/0 |"


def test_a_round_compares_the_medians_of_its_runs_and_lower_is_better_for_a_time():
    samples = bench_compare.Samples()
    samples.add("before", {"startup lifecycle --help": 1.0}, 1)
    samples.add("before", {"startup lifecycle --help": 3.0}, 1)
    samples.add("after", {"startup lifecycle --help": 1.5}, 1)
    samples.add("after", {"startup lifecycle --help": 2.0}, 2)  # no before in round 2
    assert samples.after_better("startup lifecycle --help") == "1/1"


def test_a_zero_median_has_no_ratio():
    assert bench_compare.ratio([0.0, 0.0], [0.1]) == "–"
    assert bench_compare.ratio([2.0], [1.0]) == "0.50×"


def test_the_revisions_take_turns_going_first():
    assert list(bench_compare.rounds(3)) == [
        (1, ("before", "after")),
        (2, ("after", "before")),
        (3, ("before", "after")),
    ]


def test_http_runs_the_revisions_bench_http_script_itself():
    """Through bench.py (a second run_path under the port shim) the spawned load generator's
    results did not unpickle in the parent: every HTTP run of a recent revision failed."""
    import argparse

    revision = bench_compare.Revision("after", "abc", Path("/rev"), None)
    args = argparse.Namespace(http_args="--seconds 2", ports="18400-18499")
    command = bench_compare.command(revision, "http", args)
    assert command[4] == "/rev/scripts/bench_http.py"
    assert command[5:] == ["--engine", "sqlite", "--seconds", "2"]

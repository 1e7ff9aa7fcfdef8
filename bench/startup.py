"""Time a fresh ``discovery search`` process, and where its start-up goes (issue 14).

Each query runs ``python -m discovery search Q --matter M`` in a new process
(output thrown away), ``--runs`` times, in two states:

* **bytecode**: the package's modules compiled once beforehand, as ``pip
  install`` leaves them (this is what a paralegal's installed copy runs);
* **no bytecode**: discovery's ``__pycache__`` folders removed and
  ``PYTHONDONTWRITEBYTECODE=1``, so every run compiles discovery's own modules
  again (an editable install in a shell that sets that variable, as the
  workplace's shells do). They are compiled again afterwards.

Then ``-X importtime`` of the first query, the least of each module's
cumulative time over the runs: the packages a rare-word search imports.

    python -m bench.startup --home /work/bench-data/b1m/home --runs 15
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import discovery

QUERIES = ["libgen", '"pirated books"']
GROUPS = ("typer", "rich.console", "numpy", "regex", "sqlite3", "discovery.cli", "discovery.search")
"""Modules whose cumulative import time is printed (each includes what it imports first)."""


def _runs(cmd: list[str], env: dict[str, str], n: int) -> list[float]:
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)  # warm the page cache
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - t)
    return samples


def _imports(cmd: list[str], env: dict[str, str], n: int) -> tuple[dict[str, float], set[str]]:
    """Least cumulative import time (ms) of each module over ``n`` runs; the top-level ones."""
    best: dict[str, float] = {}
    top: set[str] = set()
    line = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)")
    for _ in range(n):
        err = subprocess.run(
            [cmd[0], "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True
        ).stderr
        for m in line.finditer(err):
            us, name = int(m[1]), m[3]
            best[name] = min(best.get(name, us), us)
            if len(m[2]) == 1:
                top.add(name)
    return {k: v / 1000 for k, v in best.items()}, top


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    ap.add_argument("--home", type=Path, required=True, help="$DISCOVERY_HOME of the matter")
    ap.add_argument("--matter", default="bench")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("queries", nargs="*", default=QUERIES)
    args = ap.parse_args(argv)
    env = {**os.environ, "DISCOVERY_HOME": str(args.home), "DISCOVERY_TZ": "UTC"}
    package = Path(discovery.__file__).parent
    print(f"load average at start {os.getloadavg()[0]:.2f}; {args.runs} runs each")
    states = {
        "no bytecode": {**env, "PYTHONDONTWRITEBYTECODE": "1"},
        "bytecode": {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
    }
    for state, state_env in states.items():
        if state == "no bytecode":
            for cache in package.rglob("__pycache__"):
                shutil.rmtree(cache)
        else:
            compileall.compile_dir(package, quiet=1)
        for q in args.queries:
            cmd = [sys.executable, "-m", "discovery", "search", q, "--matter", args.matter]
            s = _runs(cmd, state_env, args.runs)
            print(
                f"{state:12} {q:20} median {statistics.median(s):.3f} s"
                f" (min {min(s):.3f}, max {max(s):.3f})"
            )
    cmd = [sys.executable, "-m", "discovery", "search", args.queries[0], "--matter", args.matter]
    best, top = _imports(cmd, states["bytecode"], max(3, args.runs // 2))
    print("imports (bytecode; least over the runs, ms, each with what it imported first):")
    for name in GROUPS:
        if name in best:
            print(f"  {name:20} {best[name]:6.1f}")
    print(f"  {'(every import)':20} {sum(best[k] for k in top):6.1f}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time a fresh ``discovery search`` process, and where its start-up goes (issue 14).

Each query runs ``python -m discovery search Q --matter M`` in a new process
(output thrown away), ``--runs`` times, in two states:

* **bytecode**: the package's modules compiled once beforehand, as ``pip
  install`` leaves them (this is what a paralegal's installed copy runs);
* **no bytecode**: discovery's ``__pycache__`` folders removed and
  ``PYTHONDONTWRITEBYTECODE=1``, so every run compiles discovery's own modules
  again (an editable install in a shell that sets that variable, as the
  workplace's shells do). They are compiled again afterwards.

Each run's wall time and CPU time (user + system, of the child) are printed
as a median and a range, with the load average before and after. Then ``-X
importtime`` of the first query, the least of each module's cumulative time
over the runs: the packages a rare-word search imports.

``--python`` times another interpreter's copy of discovery, e.g. a regular
(non-editable) ``pip install .`` in a fresh venv; the runs start in the
matter's home, so no checkout in the working folder shadows the installed copy.

    python -m bench.startup --home /work/bench-data/b1m/home --runs 15
    python -m bench.startup --home ... --python /tmp/venv/bin/python --bytecode-only
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUERIES = ["libgen", '"pirated books"']
GROUPS = ("typer", "rich.console", "numpy", "regex", "sqlite3", "discovery.cli", "discovery.search")
"""Modules whose cumulative import time is printed (each includes what it imports first)."""


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _runs(
    cmd: list[str], env: dict[str, str], cwd: Path, n: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``n`` runs (after one that warms the page cache)."""
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), _cpu()
        subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        wall.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)
    return wall, cpu


def _spread(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.3f} s ({min(samples):.3f}–{max(samples):.3f})"


def _imports(
    cmd: list[str], env: dict[str, str], cwd: Path, n: int
) -> tuple[dict[str, float], set[str]]:
    """Least cumulative import time (ms) of each module over ``n`` runs; the top-level ones."""
    best: dict[str, float] = {}
    top: set[str] = set()
    line = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)")
    for _ in range(n):
        err = subprocess.run(
            [cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=cwd, capture_output=True, text=True
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
    ap.add_argument("--python", default=sys.executable, help="the interpreter to time")
    ap.add_argument("--bytecode-only", action="store_true", help="skip the no-bytecode runs")
    ap.add_argument("queries", nargs="*", default=QUERIES)
    args = ap.parse_args(argv)
    env = {**os.environ, "DISCOVERY_HOME": str(args.home), "DISCOVERY_TZ": "UTC"}
    cwd = args.home.resolve()
    where = [args.python, "-c", "import discovery; print(discovery.__file__)"]
    found = subprocess.run(where, cwd=cwd, capture_output=True, text=True, check=True)
    package = Path(found.stdout.strip()).parent
    print(f"{package} ({args.python}); {args.runs} runs each")
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    states = {
        "no bytecode": {**env, "PYTHONDONTWRITEBYTECODE": "1"},
        "bytecode": {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
    }
    if args.bytecode_only:
        del states["no bytecode"]
    for state, state_env in states.items():
        if state == "no bytecode":
            for cache in package.rglob("__pycache__"):
                shutil.rmtree(cache)
        else:
            # by the timed interpreter, whose bytecode it is
            subprocess.run([args.python, "-m", "compileall", "-q", str(package)], check=True)
        for q in args.queries:
            cmd = [args.python, "-m", "discovery", "search", q, "--matter", args.matter]
            wall, cpu = _runs(cmd, state_env, cwd, args.runs)
            print(f"{state:12} {q:20} wall {_spread(wall)}, CPU {_spread(cpu)}")
    cmd = [args.python, "-m", "discovery", "search", args.queries[0], "--matter", args.matter]
    best, top = _imports(cmd, states["bytecode"], cwd, max(3, args.runs // 2))
    print("imports (bytecode; least over the runs, ms, each with what it imported first):")
    for name in GROUPS:
        if name in best:
            print(f"  {name:20} {best[name]:6.1f}")
    print(f"  {'(every import)':20} {sum(best[k] for k in top):6.1f}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

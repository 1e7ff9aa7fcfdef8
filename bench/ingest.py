"""Time one ``discovery ingest`` in a fresh process: wall, CPU, and memory of its process tree.

    python -m bench.ingest /work/bench-data/b1m/export --home /tmp/h      # an export there is
    python -m bench.ingest /work/bench-data/s5m/export --messages 5000000  # generated first

The ingest runs as ``python -m discovery ingest EXPORT --custodian bench --json`` into a
fresh matter ``bench``. Its worker processes count: CPU time is the whole tree's (the
workers are waited for), and while it runs the tree's memory is sampled from ``/proc``
five times a second: the sum of its processes' resident sets (RSS, which counts pages
shared with the parent once per process) and of their proportional sets (PSS, each
shared page split between its sharers: what the tree really holds). The largest
single process is the largest ``VmHWM`` (peak RSS) read from any of them: no sample
can miss it, and unlike ``ru_maxrss`` it does not count the memory of the process that
started the ingest (a fork copies it; Linux keeps that peak across the ``exec``).
``--env K=V`` sets tuning variables (``DISCOVERY_JOBS=1``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int, children: bool) -> float:
    """CPU seconds of a process (and of its children it has waited for, if ``children``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(x) for x in fields[11 : 15 if children else 13])  # utime stime cu cs
    return ticks / TICK


def _tree(pid: int) -> list[int]:
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _memory_kb(pid: int) -> tuple[int, int, int, int]:
    """(RSS, PSS, anonymous PSS, peak RSS so far) of one process in KiB; zeros when gone."""
    rss = pss = anon = hwm = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Pss_Anon:"):
                    anon = int(line.split()[1])
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, pss, anon, hwm


class TreeSampler(threading.Thread):
    """Peak total RSS and PSS (MB) of a process and its descendants, sampled; the largest
    peak RSS of any one of them (``VmHWM``, which no sample can miss); a timeline when
    ``trace`` names a file: seconds, processes, summed RSS, PSS and anonymous PSS in MB,
    then CPU seconds so far of the writer (the ingest process) and of the whole tree."""

    def __init__(self, pid: int, every: float = 0.2, trace: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.trace = pid, every, trace
        self.peak_rss = self.peak_pss = self.peak_anon = 0.0
        self.most_processes = 0
        self.hwm: dict[int, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        out = self.trace.open("w") if self.trace else None
        while not self._done.is_set():
            procs = _tree(self.pid)
            sizes = [_memory_kb(p) for p in procs]
            rss, pss, anon = (sum(s[i] for s in sizes) / 1024 for i in range(3))
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.peak_anon = max(self.peak_anon, anon)
            self.most_processes = max(self.most_processes, sum(1 for s in sizes if s[0]))
            for p, s in zip(procs, sizes, strict=True):
                self.hwm[p] = max(self.hwm.get(p, 0.0), s[3] / 1024)
            if out:
                t = time.perf_counter() - start
                own = _cpu_s(self.pid, children=False)
                cpu = _cpu_s(self.pid, children=True) + sum(
                    _cpu_s(p, children=True) for p in procs if p != self.pid
                )
                out.write(f"{t:.1f}\t{len(procs)}\t{rss:.0f}\t{pss:.0f}\t{anon:.0f}")
                out.write(f"\t{own:.1f}\t{cpu:.1f}\n")
                out.flush()
            self._done.wait(self.every)
        if out:
            out.close()

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_ingest(
    export: Path | list[Path],
    env: dict[str, str],
    matter: str = "bench",
    trace: Path | None = None,
    extra: list[str] | None = None,
) -> dict[str, float]:
    """Ingest ``export`` (one path or several) in a child process, with ``extra`` options;
    its wall time, CPU time and memory."""
    paths = export if isinstance(export, list) else [export]
    cmd = [sys.executable, "-m", "discovery", "ingest", *map(str, paths)]
    cmd += ["--custodian", "bench", "--json", "--matter", matter, *(extra or [])]
    load = os.getloadavg()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    sampler = TreeSampler(proc.pid, trace=trace)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    sampler.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the ingest failed (exit {os.waitstatus_to_exitcode(status)})")
    return {
        "ingest_s": wall,
        "ingest_cpu_s": usage.ru_utime + usage.ru_stime,
        # The largest single process, from each one's VmHWM: not ``ru_maxrss``, which also
        # counts this process's memory copied into the child before its exec.
        "peak_rss_mb_ingest": max(sampler.hwm.values(), default=0.0),
        "peak_rss_mb_writer": sampler.hwm.get(proc.pid, 0.0),
        "peak_rss_mb_worker": max((v for p, v in sampler.hwm.items() if p != proc.pid), default=0),
        "peak_tree_rss_mb_ingest": sampler.peak_rss,
        "peak_tree_pss_mb_ingest": sampler.peak_pss,
        "peak_tree_anon_pss_mb_ingest": sampler.peak_anon,
        "ingest_processes": sampler.most_processes,
        "load_before_ingest": load[0],
        "load_after_ingest": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    ap.add_argument("export", type=Path)
    ap.add_argument("--home", type=Path, help="fresh $DISCOVERY_HOME (default: beside the export)")
    ap.add_argument("--messages", type=int, help="generate an export of this size first")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--env", action="append", default=[], help="K=V for the ingest process")
    ap.add_argument("--trace", type=Path, help="write the memory timeline (TSV) here")
    args = ap.parse_args()
    if args.messages:
        from discovery.synth import generate_slack_export

        shutil.rmtree(args.export, ignore_errors=True)
        t = time.perf_counter()
        generate_slack_export(args.export, args.messages, seed=args.seed)
        print(f"generated {args.messages:,} messages in {time.perf_counter() - t:.0f} s")
    home = args.home or args.export.parent / "ingest-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "DISCOVERY_HOME": str(home)}
    env.update(kv.split("=", 1) for kv in args.env)
    result = run_ingest(args.export, env, trace=args.trace)
    os.environ["DISCOVERY_HOME"] = str(home)
    from discovery.matter import open_matter

    with open_matter("bench") as m:
        result["messages"] = m.store.max_message_id()
    result["msgs_per_s"] = result["messages"] / result["ingest_s"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

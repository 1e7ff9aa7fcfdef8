"""Worker processes for the ingest: reading parts of a source, indexing ranges of ids.

The ingest has one writer (the process holding the matter's write lock); the
work that needs no writing runs beside it in worker processes, a task at a
time, the results coming back in the order of the tasks:

* reading and normalising the parts of a large source
  (:func:`discovery.ingest.read_part`), while the writer stages what comes back;
* indexing contiguous ranges of message ids, one segment per range, which the
  writer appends to the index in id order (:mod:`discovery.index.whoosh_engine`).

Workers hold no lock and write nothing a search reads until the writer commits
it. Each ignores the terminal's Ctrl-C and hang-up (its parent decides), dies
with its parent (Linux: ``PR_SET_PDEATHSIG``, so a ``kill -9`` of the ingest
leaves no worker running; elsewhere a thread checks every second), and is
stopped as soon as its parent stops early for any reason (an interrupt, a
full disk, a failed source). On Linux workers are forked (no start-up cost) unless
they are asked ``fresh`` (the index workers: see :class:`Workers`); elsewhere they
are spawned.

``DISCOVERY_JOBS`` sets how many workers run (default: one per CPU; 1: none, all
in the writer's process).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

# multiprocessing and concurrent.futures are imported when a pool starts: a search
# imports this module (through the matter) and never starts one.

MAX_JOBS = 8
AHEAD = 2
"""Tasks sent per worker before the first result is taken (bounds memory)."""


def tuned(name: str, default: int) -> int:
    """A size the ingest works in, from ``DISCOVERY_<name>`` when set (tests and
    benchmarks use it to force batches and workers on small sources), else ``default``."""
    value = os.environ.get(f"DISCOVERY_{name}", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def jobs() -> int:
    """How many worker processes to run (``DISCOVERY_JOBS``, else one per CPU, at most 8)."""
    return tuned("JOBS", max(1, min(MAX_JOBS, os.cpu_count() or 1)))


class Workers:
    """A pool of worker processes, used as a context manager.

    Leaving the block normally waits for the workers to finish; leaving it
    with an exception (``KeyboardInterrupt`` included) kills them first.
    ``fresh`` starts them as new interpreters (spawned) even where they could be
    forked: each then holds only the modules its tasks import, none of the
    writer's pages (a forked worker's resident set counts every page it shares
    with the writer); for long tasks, where the start-up (~0.5 s) does not count.
    """

    def __init__(self, count: int, *, fresh: bool = False) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        forks = not fresh and "fork" in multiprocessing.get_all_start_methods()
        method = "fork" if forks else "spawn"
        _shrink(freeze=forks)
        self._pool = ProcessPoolExecutor(
            count,
            mp_context=multiprocessing.get_context(method),
            initializer=_started,
            initargs=(os.getpid(),),
        )
        self.count = count

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self._pool.shutdown(wait=True)
            else:
                self.stop()
        finally:
            gc.unfreeze()

    def stop(self) -> None:
        """Kill the workers now (whatever they are doing) and wait until they are gone."""
        # The executor has no public way to end running tasks: its processes are
        # killed directly (concurrent.futures keeps them in ``_processes``).
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            with suppress(Exception):
                p.kill()
        for p in procs:
            with suppress(Exception):
                p.join(5)

    def ordered(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """``fn(*task)`` for each task, run in the workers; the results in task order.

        At most :data:`AHEAD` tasks per worker are pending at any time, so what
        waits to be taken stays bounded whatever the number of tasks. An
        exception raised by ``fn`` is raised here, at its task's turn.
        """
        pending: deque[Future[Any]] = deque()
        for task in tasks:
            pending.append(self._pool.submit(fn, *task))
            if len(pending) >= AHEAD * self.count:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _shrink(freeze: bool) -> None:
    """Before starting workers: give back to the system the memory this process has
    freed (forked workers would start with a copy of it; it would count while they
    run), and, before forking (``freeze``), keep the objects it holds out of the
    workers' garbage collection (which would copy the pages holding them)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        import ctypes

        with suppress(Exception):
            ctypes.CDLL(None).malloc_trim(0)
    if freeze:
        gc.freeze()


def _started(parent: int) -> None:
    """In each worker: leave interrupts to the parent, and die with it."""
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        with suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    else:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)

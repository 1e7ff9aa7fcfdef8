"""Sharded matters on a Dask cluster: sources read and shards indexed by its workers.

The coordinator is the process running the ingest. It hands every source to
the cluster (:func:`stager`): a worker reads it, normalises it and stages its
messages in a scratch file of the matter's work folder, and sends back the
source's report. The coordinator stores the staged sources one by one in
their ingest order, through the same :meth:`~discovery.store.Staging.store`
as a one-process ingest: control numbers are allocated there, centrally, per
source, and a message already stored from any source (on any shard) is
deduplicated onto it with both custodians. As soon as a source is stored, its
shard is indexed by a task on the cluster while the next sources are staged
(:class:`ShardIndexer`, :class:`~discovery.index.sharded.ShardedEngine`); the
shards are shown as indexed when all are, at the end. See docs/SCALE.md.

A worker that dies is replaced by Dask and its task run again on another one
(a source is staged again from its beginning; a shard goes on from the
segments it committed); a source whose worker died
:data:`ALLOWED_FAILURES` times is reported as failed, and stored by the next
ingest. Nothing of it is stored meanwhile.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem, UsageError
from discovery.index.sharded import MAX_SHARDS, ShardedEngine, index_shard
from discovery.ingest import SourceJob, SourceReport, Staged, Stager, stage_source
from discovery.matter import Matter
from discovery.store import IndexRows

ALLOWED_FAILURES = 3
"""Workers that may die running one task before its source is reported as failed
(Dask's ``distributed.scheduler.allowed-failures``)."""
AHEAD = 2
"""Sources staged ahead per worker, waiting to be stored (bounds the work folder)."""
SHARD_BYTES = 1 << 30
"""``--shards auto``: one shard per this many bytes of collection (at least 2)."""


@contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: of a local cluster of ``workers`` processes, or of the running
    cluster at ``scheduler`` (``tcp://host:8786``)."""
    if (workers is None) == (scheduler is None):
        raise UsageError("give --workers N or --scheduler tcp://HOST:PORT (one of them)")
    import logging

    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its notes are not ours to print
    dask.config.set(
        {
            "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
            # A source or a shard is one long task: sampling its stack every 10 ms
            # for Dask's profile costs CPU and tells us nothing.
            "distributed.worker.profile.enabled": False,
            # Every process of the cluster wakes on these to measure itself (every 20 ms
            # and 100 ms by default): a few percent of a core each, taken from the ingest.
            "distributed.admin.tick.interval": "1s",
            "distributed.admin.system-monitor.interval": "2s",
            "distributed.worker.memory.monitor-interval": "1s",
        }
    )
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise UsageError(f"no Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    if workers is None or workers < 1:
        raise UsageError("--workers takes a number of worker processes, at least 1")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        Client(local) as client,
    ):
        yield client


def _stage(job: SourceJob, staging: str) -> Staged:
    """On a worker: read and stage one source (the worker is one process: no pool of its own)."""
    os.environ["DISCOVERY_JOBS"] = "1"
    return stage_source(job, Path(staging))


def _waited(future: Any, job: SourceJob, path: str) -> Staged:
    from distributed import KilledWorker

    try:
        return future.result()  # raises what staging raised, as a one-process ingest would
    except KilledWorker:
        rep = SourceReport(job.shown, job.importer, "failed")
        rep.problems.append(
            ImportProblem(
                job.shown,
                f"not imported: the cluster lost {ALLOWED_FAILURES} workers while reading it;"
                " nothing of it was stored; run the ingest again to import it",
            )
        )
        return Staged(rep, "", 0, Path(path), None)


def stager(client: Any, stored: Callable[[], None] | None = None) -> Stager:
    """Reads and stages sources on the cluster of ``client``, a few per worker ahead;
    ``stored`` is called each time the ingest asks for the next source (so the one
    before it is stored)."""

    def stage(jobs: list[SourceJob], work: Path) -> Iterator[Callable[[], Staged]]:
        run = uuid.uuid4().hex
        window = AHEAD * max(1, len(client.scheduler_info().get("workers", {})))
        pending: deque[tuple[Any, SourceJob, str]] = deque()
        todo = iter(enumerate(jobs))

        def submit() -> None:
            for i, job in todo:
                path = str(work / f"staged-{i:07d}.sqlite")
                # Before the index tasks: the sources feed the one process storing them.
                future = client.submit(_stage, job, path, key=f"stage-{run}-{i}", priority=1)
                pending.append((future, job, path))
                return

        for _ in range(window):
            submit()
        try:
            first = True
            while pending:
                if not first and stored is not None:
                    stored()
                first = False
                future, job, path = pending.popleft()
                submit()
                yield lambda future=future, job=job, path=path: _waited(future, job, path)
        finally:
            for future, _, _ in pending:
                future.cancel()

    return stage


def this_host() -> set[str]:
    """The addresses of the machine running the ingest."""
    found = {"127.0.0.1", "::1", "localhost"}
    with suppress(OSError):
        found.update(str(a[4][0]) for a in socket.getaddrinfo(socket.gethostname(), None))
    return found


def local_workers(workers: dict[str, Any], here: set[str]) -> list[str]:
    """The workers (``scheduler_info()["workers"]``) running on a host of ``here``."""
    return sorted(w for w, info in workers.items() if str(info.get("host", "")) in here)


def _after(_before: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, once the task before it (an argument: Dask waits for it) is done."""
    return fn(*args)


class ShardIndexer:
    """Indexes shards on the workers of ``client``'s cluster that share this host (the
    index tasks read the case store, whose WAL works only on one host).

    :meth:`ahead` starts the tasks of sources already stored while the ingest goes
    on (each shard's tasks one after the other: a shard has one writer); calling it
    (the :data:`~discovery.index.sharded.Runner` of
    :meth:`~discovery.index.sharded.ShardedEngine.add_range`) adds the last ones and
    yields the results of all, in order."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.started: list[Any] = []
        self.last: dict[str, Any] = {}
        """Each shard folder's latest task, the one its next task waits for."""
        self.through: int | None = None
        """The id through which tasks were started (None: none yet)."""

    def _submit(self, fn: Callable[..., Any], tasks: list[tuple[Any, ...]]) -> None:
        """Start ``fn(folder, ...)`` for every task, after the folder's task before it."""
        near = local_workers(self.client.scheduler_info().get("workers", {}), this_host())
        if not near:
            raise UsageError(
                "no worker of the cluster runs on this host, and the shards are indexed here"
                " (the case store can only be read on its own host: docs/SCALE.md); start"
                f" one: dask worker {self.client.scheduler.address} --nworkers 1 --nthreads 1"
            )
        for args in tasks:
            before = self.last.get(args[0])
            future = self.client.submit(_after, before, fn, *args, pure=False, workers=near)
            self.last[args[0]] = future
            self.started.append(future)

    def ahead(self, engine: ShardedEngine, read: IndexRows, through: int) -> None:
        """Start indexing what was stored up to ``through`` and is not being indexed."""
        self._submit(index_shard, engine.plan(read, through, since=self.through))
        self.through = through

    def __call__(self, fn: Callable[..., Any], tasks: list[tuple[Any, ...]]) -> Iterator[Any]:
        self._submit(fn, tasks)
        futures, self.started, self.last, self.through = self.started, [], {}, None
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def on_cluster(matter: Matter, client: Any) -> Stager:
    """Make ``matter``'s shards indexed on the cluster, each source's as soon as it is
    stored; return the stager for its ingest."""
    engine = matter.engine
    if not isinstance(engine, ShardedEngine):
        return stager(client)
    indexer = engine.runner = ShardIndexer(client)
    read = IndexRows(matter.store.path)
    return stager(client, lambda: indexer.ahead(engine, read, matter.store.max_message_id()))


def auto_shards(paths: list[Path]) -> int:
    """``--shards auto``: one shard per :data:`SHARD_BYTES` of the collection, at least 2."""
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        elif p.exists():
            total += p.stat().st_size
    return max(2, min(MAX_SHARDS, -(-total // SHARD_BYTES)))


def shard_option(text: str | None, paths: list[Path] | None = None) -> int:
    """``--shards``: a number of shards (1: none), or ``auto`` from ``paths``' size."""
    if text is None:
        return 1
    if text.strip().lower() == "auto":
        if not paths:
            raise UsageError(
                "--shards auto sizes the shards from the collection: give it to"
                " 'discovery ingest PATH... --matter NAME --shards auto', which creates the matter"
            )
        return auto_shards(paths)
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_SHARDS:
        raise UsageError(f"--shards takes a number from 1 to {MAX_SHARDS}, or auto; not {text!r}")
    return count

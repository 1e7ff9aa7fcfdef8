"""Measure a production: 2,000 hits in day slices, RSMF + PDF + text, from a large matter.

Generates the synthetic Slack export (:mod:`discovery.synth`), ingests it (or
reuses the matter kept by an earlier run with ``--keep``), tags a seeded
random 2,000 of the hits of a common word, ten of them also ``privileged``,
and times ``produce --tag`` with ``--slice day``. Prints the figures and
writes ``bench/out/produce-<formats>.json``; each repetition writes a fresh
folder. ``--formats text`` is the baseline: the same selection, slices and
transcripts, written as text only.

    python -m bench.produce --messages 200000 --hits 2000 --keep /tmp/bench-prod
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.produce.production import Options, parse_formats, produce, select
from discovery.search import Searcher
from discovery.synth import generate_slack_export

TAG = "bench-produce"


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.produce", description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--hits", type=int, default=2_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the export and matter here")
    ap.add_argument(
        "--formats",
        default="rsmf,pdf,text",
        help="what to produce (text alone is the baseline: the same slices, no RSMF or PDF)",
    )
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="discovery-bench-produce-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DISCOVERY_HOME"] = str(work / "home")
    name = f"bench{args.messages}"
    ingest_s = None
    try:
        matter = open_matter(name)
    except Exception:
        export = work / "export"
        if not export.exists():
            generate_slack_export(export, args.messages, seed=args.seed)
        matter = open_matter(name, create=True)
        t = time.perf_counter()
        ingest(matter, [export], custodian="bench")
        ingest_s = time.perf_counter() - t
    with matter:
        hits = sorted(Searcher(matter).match("the")[1])
        chosen = sorted(random.Random(args.seed).sample(hits, args.hits))
        matter.store.untag(matter.store.ids_of_tags([TAG]), TAG)
        matter.store.tag(chosen, TAG)
        matter.store.tag(chosen[:: max(1, args.hits // 10)][:10], "privileged")
        selection = select(matter, tag=TAG)
        options = Options(prefix="BENCH", slice="day", tz="America/New_York",
                          formats=parse_formats(args.formats),
                          confidentiality="CONFIDENTIAL")  # fmt: skip
        times, result = [], None
        for rep in range(args.reps):
            out = work / f"production-{rep}"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            result = produce(matter, selection, options, out)
            times.append(time.perf_counter() - t)
        assert result is not None
    files = len(result.files) + 1
    figures = {
        "formats": args.formats,
        "messages_in_matter": args.messages,
        "selected": len(selection.ids),
        "documents": result.documents,
        "pages": result.pages,
        "messages_produced": result.produced,
        "withheld": result.withheld,
        "files": files,
        "seconds": times,
        "median_s": statistics.median(times),
        "files_per_s_range": [files / max(times), files / min(times)],
        "documents_per_s_range": [result.documents / max(times), result.documents / min(times)],
        "ingest_s": ingest_s,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    out_dir = Path(__file__).parent / "out"
    out_dir.mkdir(exist_ok=True)
    name = "produce-" + args.formats.replace(",", "-")
    (out_dir / f"{name}.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Time a 50-term search term report over a large matter (issue 5: <= 10 s at 200,000 messages).

    DISCOVERY_HOME=/tmp/bench200/home python -m bench.batch --matter bench

Without an existing matter, ``--messages N`` generates and ingests a synthetic
Slack export first (seed 7, as ``python -m bench``). The batch runs warm in
one process after the matter is open (the index searcher and the store are
open, as in ``discovery batch``); the figure is the wall time of
:func:`discovery.report.build_report` plus writing the CSV and the XLSX.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import ensure_matter
from discovery import config
from discovery.batch import parse_terms
from discovery.matter import open_matter
from discovery.report import build_report, write_report_csv, write_report_xlsx

TERMS = """\
libgen
"pirated books"
"ask forgiveness"
"ask for permission"
forgiveness w/5 permission
ask pre/3 forgiveness
pirat*
linea
(libgen OR pirated) AND NOT permission
"ask forgiveness" AND sent:2023-03-01..2023-06-30
license*
publisher?
legal w/3 contract
budget pre/4 meeting
gpu w/2 cluster
deadline
mirror
ocr
"the model"
model AND data
data AND NOT model
review not w/5 legal
(deal OR price) AND offer
shadow w/3 library
scraped OR crawl*
epub OR pdf
counsel w/5 memo
lawyers AND agreement
rights w/2 authors
"training run"
conversation:general AND books
channel:legal AND data
speaker:u0000001* AND license
sent:2023-03-12
after:2023-11-04 AND before:2023-11-07 AND data
archive w/4 download
dataset pre/2 license
investor*
rollback OR deploy
"not for permission"
copy w/3 copies
catalog AND titles
scan* w/2 books
accuracy w/3 baseline
vendor AND price
policy w/5 risk
approvals
"next week"
token*
schedule AND sync
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matter", default="bench")
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--tz", default="America/New_York")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    terms = parse_terms(TERMS)
    assert len(terms) == 50, len(terms)
    ensure_matter(args.matter, args.messages)
    zone = config.zone(args.tz)
    out = Path(tempfile.mkdtemp())
    with open_matter(args.matter) as m:
        m.tz = zone
        n = m.store.max_message_id()
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = build_report(m, terms, zone, zone_name=args.tz)
            write_report_csv(report, out / "report.csv")
            write_report_xlsx(report, out / "report.xlsx")
            times.append(time.perf_counter() - start)
    result = {
        "messages": n,
        "terms": len(terms),
        "hits_total": report.total.messages,
        "seconds": [round(t, 2) for t in times],
        "best_s": round(min(times), 2),
        "target_s": 10.0,
    }
    print(json.dumps(result))
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/batch.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if min(times) <= 10.0 else 1


if __name__ == "__main__":
    os.environ.setdefault("DISCOVERY_TZ", "America/New_York")
    sys.exit(main())

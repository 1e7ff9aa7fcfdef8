"""Time the review screen with Textual's Pilot on a large matter (issue 4 targets).

Measures, in a headless 120x40 app:

* query latency: from the last key of a query (Enter) until its first page of
  hits is in the table and every widget has processed its pending messages
  (layout and repaint included) (target p50 <= 150 ms at 200k, issue 4; <= 100 ms
  at 1M with the common-word queries included, issue 14);
* next-hit redraw: from pressing ``j`` until the conversation pane shows the
  next hit, measured the same way (target <= 50 ms).

The key is posted to the app's driver, as a terminal would deliver it, rather
than through ``Pilot.press``: that helper sleeps at least 2 x 20 ms per key
waiting for the CPU to go idle, which is test pacing, not the app. The
``Pilot.press`` figure is printed too, as an upper bound.

    python -m bench.tui                          # matter "bench" under $DISCOVERY_HOME
    python -m bench.tui --home /tmp/bench200/home --matter bench
    python -m bench.tui --generate 200000 --home /tmp/tuibench   # build one first
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "libgen",
    '"pirated books"',
    '"ask for permission"',
    "forgiveness w/5 permission",
    "ask pre/3 forgiveness",
    "(libgen OR pirated) AND NOT permission",
    "pirat*",
    '"ask forgiveness" AND sent:2023-03-01..2023-06-30',
    "licensed w/10 books",
    "budget OR deadline",
    '"of the"',
    "the w/5 for",
]
WALK_QUERY = "libgen OR pirat*"
STEPS = 40


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def _measure(matter_name: str, rounds: int) -> dict[str, list[float]]:
    from textual import events

    from discovery.matter import open_matter
    from discovery.tui import ReviewApp, Session

    out: dict[str, list[float]] = {"query": [], "next": [], "pane": [], "pilot": []}
    with open_matter(matter_name) as matter:
        print(f"matter {matter_name}: {matter.store.counts()['messages']:,} messages")
        session = Session(matter)
        app = ReviewApp(session, blink=False)
        async with app.run_test(size=(120, 40)) as pilot:

            def key(name: str, char: str | None) -> None:
                assert app._driver is not None
                app._driver.send_message(events.Key(name, char))

            async def shown() -> None:
                # Every widget has handled what was queued (Pilot's own check, no sleeping).
                await pilot._wait_for_screen()

            async def run_query(q: str) -> float:
                await pilot.press("slash")
                app.query_bar.input.value = q
                await pilot.pause()
                t = time.perf_counter()
                key("enter", "\r")
                while app.results is None or app.results.query != q:
                    await asyncio.sleep(0)
                await shown()
                return (time.perf_counter() - t) * 1000

            await run_query("warmup")
            for _ in range(rounds):
                for q in QUERIES:
                    ms = await run_query(q)
                    out["query"].append(ms)
                    total = app.results.total if app.results else 0
                    print(f"  {ms:7.1f} ms  {total:6d} hits  {q}")

            await run_query(WALK_QUERY)
            assert app.results is not None
            steps = min(STEPS, app.results.total - 1)
            for _ in range(steps):
                want = app.results.ids[app.index + 1]
                t = time.perf_counter()
                key("j", "j")
                while app.pane.focus_id != want:
                    await asyncio.sleep(0)
                await shown()
                out["next"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await pilot.press("k", "j")
                out["pilot"].append((time.perf_counter() - t) * 1000 / 2)
                # The pane's own work (context read, render), without Pilot's overhead.
                t = time.perf_counter()
                app._show_conversation()
                out["pane"].append((time.perf_counter() - t) * 1000)
        session.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="$DISCOVERY_HOME holding the matter")
    parser.add_argument("--matter", default="bench")
    parser.add_argument("--generate", type=int, metavar="N", help="first build a matter of N")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the query set")
    args = parser.parse_args(argv)
    if args.home:
        os.environ["DISCOVERY_HOME"] = str(args.home)
    os.environ.setdefault("DISCOVERY_TZ", "UTC")
    if args.generate:
        from discovery.ingest import ingest
        from discovery.matter import open_matter
        from discovery.synth import generate_slack_export

        with tempfile.TemporaryDirectory() as tmp:
            export = Path(tmp) / "export"
            generate_slack_export(export, args.generate, seed=0)
            t = time.perf_counter()
            with open_matter(args.matter, create=True) as m:
                ingest(m, [export], custodian="synthetic")
            print(f"ingested {args.generate:,} messages in {time.perf_counter() - t:.0f} s")
    res = asyncio.run(_measure(args.matter, args.rounds))
    q, n, p = res["query"], res["next"], res["pane"]
    print(
        f"query -> first page: p50 {statistics.median(q):.1f} ms, p95 {_pct(q, 0.95):.1f} ms,"
        f" max {max(q):.1f} ms over {len(q)} queries (target p50 <= 100 ms at 1M)"
    )
    print(
        f"next hit redraw:     p50 {statistics.median(n):.1f} ms, p95 {_pct(n, 0.95):.1f} ms,"
        f" max {max(n):.1f} ms over {len(n)} steps (target <= 50 ms)"
    )
    print(f"  of which the pane:  p50 {statistics.median(p):.1f} ms, max {max(p):.1f} ms")
    k = res["pilot"]
    print(f"  Pilot.press per key (incl. its idle waits): p50 {statistics.median(k):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

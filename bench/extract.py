"""Extraction throughput: attachments per second per kind, and OCR pages per second.

    python -m bench.extract [--count 40] [--rounds 3] [--ocr-pages 6]

Generates families of attachments with ``tests.extract_inputs`` (seeded
random English sentences; needs the test extras: ``pip install -e '.[test]'``):
PDF (3 text pages), DOCX, XLSX (3 sheets of 40 rows), PPTX (5 slides), HTML,
text, CSV, EML (a body and two attachments), MSG (a body and one
attachment), zip (6 mixed members), then chat screenshots and scanned PDF
pages for OCR. Each kind is extracted ``--rounds`` times in this process
(imports warm after the first file); the figure is the range over rounds of
files per second (members are counted within their container's time). OCR
pages/s is over the screenshots and scanned pages. Results also land in
``bench/out/extract.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from discovery.extract import Options, extract
from tests import extract_inputs as make
from tests.pdfmaker import make_pdf

WORDS = [
    "budget",
    "legal",
    "merger",
    "licence",
    "contract",
    "spreadsheet",
    "meeting",
    "draft",
    "review",
    "approve",
    "invoice",
    "vendor",
    "payment",
    "deadline",
    "quarter",
    "project",
    "counsel",
    "privileged",
    "confidential",
    "schedule",
    "report",
    "forecast",
    "account",
    "transfer",
    "board",
    "policy",
    "retention",
    "delete",
    "shared",
    "drive",
    "upload",
    "version",
]


def sentence(rng: random.Random, n: int = 10) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def families(rng: random.Random, count: int) -> dict[str, list[tuple[str, bytes]]]:
    """``count`` generated files per kind, as (name, bytes)."""

    def each(fn: Callable[[int], tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        return [fn(i) for i in range(count)]

    out = {
        "pdf": each(
            lambda i: (
                f"d{i}.pdf",
                make_pdf([[sentence(rng) for _ in range(30)] for _ in range(3)]),
            )
        ),
        "docx": each(
            lambda i: (
                f"d{i}.docx",
                make.docx_bytes(
                    [sentence(rng, 20) for _ in range(30)], table=[["a", "b"], ["c", "d"]]
                ),
            )
        ),
        "xlsx": each(
            lambda i: (
                f"d{i}.xlsx",
                make.xlsx_bytes(
                    {
                        f"S{s}": [[sentence(rng, 3), rng.randint(1, 10**6)] for _ in range(40)]
                        for s in range(3)
                    }
                ),
            )
        ),
        "pptx": each(
            lambda i: (
                f"d{i}.pptx",
                make.pptx_bytes(
                    [(sentence(rng, 4), sentence(rng, 20), sentence(rng)) for _ in range(5)]
                ),
            )
        ),
        "html": each(
            lambda i: (
                f"d{i}.html",
                (
                    "<html><body>"
                    + "".join(f"<p>{sentence(rng, 15)}</p>" for _ in range(60))
                    + "</body></html>"
                ).encode(),
            )
        ),
        "text": each(
            lambda i: (f"d{i}.txt", "\n".join(sentence(rng, 15) for _ in range(80)).encode())
        ),
        "csv": each(
            lambda i: (
                f"d{i}.csv",
                "\n".join(
                    f'{n},"{sentence(rng, 8)}",{rng.random():.3f}' for n in range(80)
                ).encode(),
            )
        ),
    }
    out["eml"] = each(
        lambda i: (
            f"m{i}.eml",
            make.eml_bytes(
                sentence(rng, 5),
                sentence(rng, 60),
                [("a.docx", out["docx"][i][1]), ("b.txt", out["text"][i][1])],
            ),
        )
    )
    msg = _msg(rng, count, out["text"])
    if msg:
        out["msg"] = msg
    out["zip"] = each(
        lambda i: (
            f"z{i}.zip",
            make.zip_bytes(
                [
                    (n, d)
                    for kind in ("pdf", "docx", "xlsx", "html", "text", "csv")
                    for n, d in out[kind][i : i + 1]
                ]
            ),
        )
    )
    return out


def _msg(rng: random.Random, count: int, texts: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    try:
        from aspose.email_foss import msg
    except ImportError:  # the test extra is not installed: no MSG family
        return []
    out = []
    for i in range(count):
        m = msg.MapiMessage.create(sentence(rng, 5), sentence(rng, 60))
        m.add_attachment("b.txt", texts[i][1], mime_type="text/plain")
        out.append((f"m{i}.msg", m.to_bytes()))
    return out


def timed(files: list[tuple[str, bytes]], options: Options) -> float:
    start = time.perf_counter()
    for name, data in files:
        e = extract(name, data, options)
        assert not [p for m in e.walk() for p in m.problems], (name, e.problems)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=40, help="files per kind")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ocr-pages", type=int, default=6, help="screenshots and scanned pages each")
    args = ap.parse_args(argv)
    rng = random.Random(7)
    kinds = families(rng, args.count)
    options = Options(ocr="off")
    for files in kinds.values():  # warm the imports once, outside the clock
        extract(*files[0], options)
    results: dict[str, dict[str, float]] = {}
    print(f"{'kind':6} {'files/s (range over rounds)':>30}  {'MB/s':>10}")
    for kind, files in kinds.items():
        rates = [len(files) / timed(files, options) for _ in range(args.rounds)]
        size = sum(len(d) for _, d in files) / 1e6
        results[kind] = {"min": min(rates), "max": max(rates), "mb": size}
        mbs = f"{size * min(rates) / len(files):.1f}-{size * max(rates) / len(files):.1f}"
        print(f"{kind:6} {min(rates):>14,.0f} – {max(rates):<14,.0f} {mbs:>10}")
    shots = [
        (f"s{i}.png", make.chat_screenshot([(sp, t, sentence(rng, 8)) for sp, t, _ in make.CHAT]))
        for i in range(args.ocr_pages)
    ]
    scans = [
        (f"p{i}.pdf", make.scanned_pdf([sentence(rng, 8) for _ in range(12)]))
        for i in range(args.ocr_pages)
    ]
    for label, files in (("screenshots", shots), ("scanned pages", scans)):
        rates = [len(files) / timed(files, Options()) for _ in range(max(1, args.rounds - 1))]
        results[f"ocr {label}"] = {"min": min(rates), "max": max(rates)}
        print(f"OCR {label}: {min(rates):.2f} – {max(rates):.2f} pages/s")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "extract.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

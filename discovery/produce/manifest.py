"""The production manifest: every file with its SHA-256, the selection, the options, the counts.

``production_manifest.json`` is written last, in the production folder, and
lists every other file of the production (path relative to the folder, size,
SHA-256), in the order written. It records no clock time and no folder path,
so the same selection and options over the same matter give the same
manifest, byte for byte. Its own SHA-256 and the file list go into the audit
log, and ``discovery audit --rerun`` rebuilds the production in a temporary
folder and compares every file (:func:`compare`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discovery import __version__
from discovery.produce.files import FileRecord

MANIFEST_FILE = "production_manifest.json"


def manifest_bytes(summary: Mapping[str, Any], files: Sequence[FileRecord]) -> bytes:
    body = {
        "generator": f"discovery {__version__}",
        **summary,
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
    }
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    status: str
    """``changed``, ``missing`` (logged, not rebuilt) or ``extra`` (rebuilt, not logged)."""

    def __str__(self) -> str:
        return f"{self.path}: {self.status}"


def compare(logged: Mapping[str, str], rebuilt: Mapping[str, str]) -> list[Difference]:
    """Every file whose SHA-256 differs between two productions (path -> SHA-256 maps)."""
    out = [Difference(p, "missing") for p in logged if p not in rebuilt]
    out += [Difference(p, "changed") for p in logged if p in rebuilt and logged[p] != rebuilt[p]]
    out += [Difference(p, "extra") for p in rebuilt if p not in logged]
    return sorted(out, key=lambda d: d.path)

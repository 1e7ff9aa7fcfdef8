"""The fonts a PDF transcript is drawn with: Noto, covering every script we index.

PDFs embed subsets of the Noto fonts installed on the machine (Debian's
``fonts-noto-core`` and ``fonts-noto-cjk``; for Chinese, Japanese and Korean
first ``fonts-droid-fallback``, the TrueType font Noto CJK grew from, and
``fonts-nanum`` for Hangul: the
Noto CJK fonts have CID-keyed CFF outlines, and PDF readers such as pypdf
then extract their text with NUL characters in it), looked for in
``$DISCOVERY_FONT_DIR`` (folders separated by ``:``), then
``/usr/share/fonts`` and ``/usr/local/share/fonts``. Noto Sans draws Latin,
Greek and Cyrillic; every other character is drawn by the first font of a
fixed order that has it (Noto Sans CJK, Arabic, Hebrew, Thai, Devanagari and
the other Noto Sans scripts, then symbols). A document only loads the fonts
its characters need. A character that no installed font has is drawn as
``[U+XXXX]`` and counted, so the production report can say so; nothing is
silently left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from discovery.errors import DiscoveryError

PRIMARY = "NotoSans-Regular.ttf"
BOLD = "NotoSans-Bold.ttf"
PREFERRED = (
    "DroidSansFallbackFull.ttf",
    "NanumGothic.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansArabic-Regular.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansThai-Regular.ttf",
    "NotoSansDevanagari-Regular.ttf",
    "NotoSansBengali-Regular.ttf",
    "NotoSansTamil-Regular.ttf",
    "NotoSansArmenian-Regular.ttf",
    "NotoSansGeorgian-Regular.ttf",
    "NotoSansEthiopic-Regular.ttf",
)
"""Fallbacks tried first, in this order; the other Noto Sans fonts follow by name."""
LAST = ("NotoSansSymbols-Regular.ttf", "NotoSansSymbols2-Regular.ttf", "NotoSansMath-Regular.ttf")

_COMPLEX = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic
    (0x0900, 0x0DFF),  # Indic scripts
    (0x0E00, 0x0FFF),  # Thai, Lao, Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x18AF),  # Khmer, Mongolian
    (0x1A00, 0x1BFF),  # Tai Tham, Balinese, ...
    (0xA800, 0xABFF),
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),
    (0x10A00, 0x10AFF),
    (0x11000, 0x11FFF),
)


class FontError(DiscoveryError):
    """The fonts a PDF needs are not installed."""


@dataclass(frozen=True, slots=True)
class Font:
    name: str
    path: Path

    @property
    def family(self) -> str:
        return self.path.stem.split("-")[0].lower()


def _dirs() -> list[Path]:
    env = [Path(p) for p in os.environ.get("DISCOVERY_FONT_DIR", "").split(":") if p]
    return [*env, Path("/usr/share/fonts"), Path("/usr/local/share/fonts")]


@cache
def _catalogue(dirs: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(
            [*d.rglob("Noto*"), *d.rglob("DroidSansFallback*"), *d.rglob("NanumGothic.ttf")]
        ):
            if p.suffix.lower() in (".ttf", ".otf", ".ttc") and p.name not in found:
                found[p.name] = p
    return found


def catalogue() -> dict[str, Path]:
    return _catalogue(tuple(_dirs()))


@cache
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() == ".ttc":
        font = TTCollection(str(path), lazy=True).fonts[0]
    else:
        font = TTFont(str(path), lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def primary() -> Font:
    fonts = catalogue()
    if PRIMARY not in fonts:
        raise FontError(
            f"no {PRIMARY} found (install the Debian package fonts-noto-core, plus fonts-noto-cjk"
            " for Chinese, Japanese and Korean, or set DISCOVERY_FONT_DIR to a folder of Noto"
            " fonts); PDFs need it"
        )
    return Font(PRIMARY, fonts[PRIMARY])


def bold() -> Font | None:
    path = catalogue().get(BOLD)
    return Font(BOLD, path) if path else None


def _fallback_order() -> list[str]:
    fonts = catalogue()
    rest = sorted(
        n
        for n in fonts
        if n.startswith("NotoSans")
        and n.endswith("-Regular.ttf")
        and n not in PREFERRED
        and n not in LAST
        and n != PRIMARY
        and "Mono" not in n
    )
    serif = sorted(n for n in fonts if n.startswith("NotoSerif") and n.endswith("-Regular.ttf"))
    return [n for n in (*PREFERRED, *rest, *LAST, *serif) if n in fonts]


@dataclass(frozen=True, slots=True)
class Coverage:
    fonts: tuple[Font, ...]
    """Fallback fonts the text needs, in fallback order."""
    missing: frozenset[str]
    """Characters no installed font has."""


def coverage(chars: Iterable[str]) -> Coverage:
    """Which fallback fonts draw ``chars`` (beyond the primary font), and what none draws."""
    wanted = {c for c in chars if not c.isspace() and ord(c) >= 0x20}
    fonts = catalogue()
    left = {c for c in wanted if ord(c) not in _cmap(primary().path)}
    needed: list[Font] = []
    for name in _fallback_order() if left else ():
        has = {c for c in left if ord(c) in _cmap(fonts[name])}
        if has:
            needed.append(Font(name, fonts[name]))
            left -= has
        if not left:
            break
    return Coverage(tuple(needed), frozenset(left))


def needs_shaping(text: str) -> bool:
    """Whether ``text`` has a script that must be shaped (joined, reordered) to be read."""
    return any(lo <= ord(c) <= hi for c in text if ord(c) >= 0x0590 for lo, hi in _COMPLEX)


# --- one production's fonts: subset once, measured without the PDF library ---------------
@dataclass(frozen=True, slots=True)
class Metrics:
    """Advance widths (font units) of a font's characters, and its units per em."""

    widths: dict[int, int]
    units: int

    def width(self, char: str, size: float) -> float | None:
        w = self.widths.get(ord(char))
        return None if w is None else w * size / self.units


@cache
def metrics(path: Path) -> Metrics:
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    try:
        hmtx = font["hmtx"].metrics
        widths = {cp: hmtx[name][0] for cp, name in (font.getBestCmap() or {}).items()}
        return Metrics(widths, int(font["head"].unitsPerEm))
    finally:
        font.close()


class FontSet:
    """The fonts of one production, each cut down once to the characters the production uses.

    Loading a whole Noto font into the PDF library takes a third of a second;
    a production of thousands of documents would spend most of its time on it.
    So each font is subset once (layout tables kept, for shaping) into a
    temporary folder that lives as long as this object, and each document
    loads the small subsets. The subsets depend only on the characters, so
    the same production gives the same bytes.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        import tempfile

        wanted = set(chars) | {chr(c) for c in range(0x20, 0x7F)}
        self.coverage = coverage(wanted)
        self._tmp = tempfile.TemporaryDirectory(prefix="discovery-fonts-")
        # Latin, Greek and Cyrillic need no shaping: their layout tables are left out
        self.primary = self._cut(primary(), wanted, layout=False)
        b = bold()
        self.bold = self._cut(b, wanted, layout=False) if b is not None else None
        self.fallbacks = tuple(self._cut(f, wanted) for f in self.coverage.fonts)

    def _cut(self, font: Font, chars: set[str], layout: bool = True) -> Font:
        from fontTools import subset
        from fontTools.ttLib import TTCollection, TTFont

        options = subset.Options()
        options.layout_features = ["*"] if layout else []
        if not layout:
            options.drop_tables += ["GSUB", "GPOS", "GDEF"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.recommended_glyphs = True
        options.drop_tables += ["DSIG", "TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]
        if font.path.suffix.lower() == ".ttc":
            ttf = TTCollection(str(font.path)).fonts[0]
        else:
            ttf = TTFont(str(font.path))
        ttf.recalcTimestamp = False  # else the saved font carries today's date
        cmap = ttf.getBestCmap() or {}
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in chars if ord(c) in cmap])
        subsetter.subset(ttf)
        suffix = ".otf" if "CFF " in ttf else ".ttf"
        path = Path(self._tmp.name) / (font.path.stem + suffix)
        ttf.save(str(path))
        ttf.close()
        return Font(font.name, path)

    def for_text(self, chars: Iterable[str]) -> tuple[list[Font], frozenset[str]]:
        """The fallback fonts a document's characters need, and the characters none draws."""
        left = {c for c in chars if not c.isspace() and ord(c) >= 0x20}
        left = {c for c in left if ord(c) not in _cmap(self.primary.path)}
        needed = []
        for f in self.fallbacks:
            has = {c for c in left if ord(c) in _cmap(f.path)}
            if has:
                needed.append(f)
                left -= has
        return needed, frozenset(left)

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> FontSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

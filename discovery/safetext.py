"""Evidence text made safe to show on a terminal.

Names, paths, message texts and archive members come from the evidence, and
evidence may hold terminal control sequences (ESC, OSC, BEL, CR) that would
rewrite the reviewer's screen or forge report lines. Every string from a
source passes through :func:`visible` before it reaches a terminal; it is then
printed as plain text (a rich ``Text``, or ``markup=False``), never parsed as
markup.

* C0 controls become their Unicode control pictures (ESC -> ``␛``, BEL ->
  ``␇``, CR -> ``␍``), DEL becomes ``␡`` and C1 controls (U+0080-U+009F, such
  as the one-byte CSI U+009B) become ``⟨U+009B⟩``;
* a lone surrogate (half a UTF-16 pair, which no terminal can be sent)
  becomes ``⟨U+D83D⟩`` too;
* a newline (and U+2028/U+2029) is kept in multi-line text and becomes ``⏎``
  with ``one_line=True``; a tab is kept, or becomes ``␉`` on one line.

Nothing is dropped, so the reviewer sees that the evidence held a control
character and where.
"""

from __future__ import annotations

import re

_LINE_BREAKS = "\n\u2028\u2029"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _picture(ch: str, one_line: bool) -> str:
    code = ord(ch)
    if ch in _LINE_BREAKS:
        return "⏎" if one_line else "\n"
    if ch == "\t" and not one_line:
        return ch
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "␡"
    return f"⟨U+{code:04X}⟩"


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character made visible (see the module doc)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _picture(m.group(), one_line), text)

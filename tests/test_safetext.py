"""Control characters from evidence are shown, never obeyed."""

from __future__ import annotations

import pytest

from discovery.safetext import visible


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain [b]text[/b]", "plain [b]text[/b]"),
        ("\x1b]0;pwned\x07title", "␛]0;pwned␇title"),
        ("\x1b[2J", "␛[2J"),
        ("over\rwrite", "over␍write"),
        ("del\x7f", "del␡"),
        ("csi\x9b31m", "csi⟨U+009B⟩31m"),
        ("nul\x00", "nul␀"),
    ],
)
def test_controls_become_pictures(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_line_breaks_kept_or_marked() -> None:
    assert visible("a\nb\tc") == "a\nb\tc"
    assert visible("a\nb\tc\u2028d", one_line=True) == "a⏎b␉c⏎d"
    assert visible("fake\nproblem: x", one_line=True) == "fake⏎problem: x"


def test_no_control_byte_survives() -> None:
    every = "".join(chr(c) for c in range(0x00, 0xA0))
    out = visible(every, one_line=True)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)

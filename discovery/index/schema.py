"""The Whoosh schema of a matter's index and its analyzer (imported only when Whoosh is).

Index tables of contents pickle the analyzer class; those written before this
module existed name it ``discovery.index.whoosh_engine._Tokenizer``, which that
module still provides.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh import fields
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer

from discovery.text import version_tokens

VERSION_SEP = "\x1e"
"""Joins a message's versions in an indexed value (never part of a word)."""


class _Tokenizer(Tokenizer):  # type: ignore[misc]
    """Whoosh adapter for :func:`discovery.text.version_tokens`."""

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[WhooshToken]:
        t = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for tok in version_tokens(value.split(VERSION_SEP)):
            t.text = tok.text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = tok.text
            if positions:
                t.pos = start_pos + tok.pos
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t


def schema() -> fields.Schema:
    return fields.Schema(
        id=fields.STORED(),
        body=fields.TEXT(analyzer=_Tokenizer(), phrase=True),
    )

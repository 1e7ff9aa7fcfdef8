"""Review tags: their names, and the check that a tag named in a command exists.

Tags are case-insensitive everywhere: ``Hot``, ``HOT`` and ``hot`` are one tag,
stored as :func:`discovery.store.tag_key` spells it. A new tag is 1 to 40
letters, digits, spaces or ``- _ . & /`` starting with a letter or digit, so
a query can always name it (``tag:"follow up"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from discovery.errors import DiscoveryError, UsageError
from discovery.safetext import visible
from discovery.store import Store, tag_key

BUILTIN_TAGS = ("hot", "responsive", "privileged")
"""The tags the review screen has keys for (h, r, p)."""
_TAG = re.compile(r"^[\w][\w .&/-]{0,39}$")


class UnknownTagError(DiscoveryError):
    """A command named a tag no message carries."""


def normalise_tag(text: str) -> str:
    """A new tag as stored: trimmed, lower case, inner spaces collapsed.

    Raises:
        UsageError: an empty tag or one with characters a query could not name.
    """
    tag = tag_key(text)
    if not _TAG.match(tag):
        raise UsageError(
            "a tag is 1 to 40 letters, digits, spaces or - _ . & / and starts with a letter"
        )
    return tag


def known_tag(store: Store, text: str) -> str:
    """The stored spelling of a tag that messages carry.

    Raises:
        UnknownTagError: no message has it; the message names the tags there are.
    """
    tag = tag_key(text)
    names = store.tag_names()
    if not tag:
        raise UsageError("the tag is empty")
    if tag not in names:
        listed = visible(", ".join(names), one_line=True)
        there = f"the tags in this matter are: {listed}" if names else "there are no tags yet"
        raise UnknownTagError(f"no message is tagged {visible(text.strip())!r}; {there}")
    return tag


def change_tag(store: Store, ids: Sequence[int], tag: str, *, add: bool) -> list[int]:
    """Put ``tag`` on ``ids`` (``add``) or take it off; returns the ids that changed, sorted.

    Reading who had the tag and changing it are one transaction, so the ids
    returned (which the audit entry records) are exactly the messages changed.
    """
    wanted = set(ids)
    with store.transaction():
        had = store.ids_of_tags([tag]) & wanted
        (store.tag if add else store.untag)(sorted(wanted), tag)
    return sorted(wanted - had if add else had)

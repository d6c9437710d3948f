"""Text keys for matching and accent-insensitive search.

A *key* is the text a person would consider "the same": unaccented (Vietnamese đ → d included), lower-case,
with runs of white space collapsed. Keys are stored next to the text they come from and indexed, so that
search and duplicate detection never call a function per row at query time.
"""

from __future__ import annotations

import re

from unidecode import unidecode

_SPACES = re.compile(r"\s+")


def text_key(value: str | None) -> str:
    """Return the unaccented, lower-case, space-collapsed form of ``value`` ("" for None)."""
    if not value:
        return ""
    return _SPACES.sub(" ", unidecode(value).lower()).strip()


def search_key(*parts: str | None) -> str:
    """Join the keys of ``parts`` into one searchable string (parts separated by " | ")."""
    return " | ".join(key for key in (text_key(part) for part in parts) if key)

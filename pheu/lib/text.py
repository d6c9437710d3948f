"""Text keys for matching and accent-insensitive search.

A *key* is the text a person would consider "the same": unaccented (Vietnamese đ → d included), lower-case,
with runs of white space collapsed. Keys are stored next to the text they come from and indexed, so that
search and duplicate detection never call a function per row at query time.
"""

from __future__ import annotations

import re

from unidecode import unidecode

_SPACES = re.compile(r"\s+")


class _Unaccent(dict[int, str]):
    """``str.translate`` table giving each character its ``unidecode`` form, filled as characters appear.

    ``unidecode`` replaces each character on its own (no context), so translating through this table gives
    exactly ``unidecode(value)``, several times faster on accented text."""

    def __missing__(self, codepoint: int) -> str:
        replacement = self[codepoint] = unidecode(chr(codepoint))
        return replacement


_UNACCENT = _Unaccent((c, chr(c)) for c in range(128))


def text_key(value: str | None) -> str:
    """Return the unaccented, lower-case, space-collapsed form of ``value`` ("" for None)."""
    if not value:
        return ""
    return _SPACES.sub(" ", (value if value.isascii() else value.translate(_UNACCENT)).lower()).strip()


def search_key(*parts: str | None) -> str:
    """Join the keys of ``parts`` into one searchable string (parts separated by " | ")."""
    return " | ".join(key for key in (text_key(part) for part in parts) if key)


# C0 control characters but tab, line feed and carriage return, and the UTF-16 surrogates (which no UTF-8
# text holds; a JSON "\ud800" escape makes one): PostgreSQL refuses a text holding NUL, neither database
# encodes a lone surrogate, and an XLSX cell may hold none of them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def strip_control(value: str) -> str:
    """``value`` without control characters (tab and line breaks kept) or lone surrogates.

    Applied where text enters Pheu from outside — the API's request bodies, import files, e-mails — so
    that every stored text is storable on both databases and exportable."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value

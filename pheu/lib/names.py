"""People's names in the reader's language: Vietnamese writes the family name first."""

from __future__ import annotations

from django.utils import translation


def full_name(first: str | None, last: str | None, *, language: str | None = None) -> str:
    """``first`` (given name) and ``last`` (family name) in the order ``language`` (default: the active
    language) writes them: "Bùi Vi" in Vietnamese, "Vi Bùi" otherwise. Empty parts are left out."""
    language = language or translation.get_language() or ""
    parts = (last, first) if language.split("-")[0] == "vi" else (first, last)
    return " ".join(part.strip() for part in parts if part and part.strip())

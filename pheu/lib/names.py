"""People's names in the reader's language: Vietnamese writes the family name first."""

from __future__ import annotations

from django.utils import translation


def full_name(first: str | None, last: str | None, *, language: str | None = None) -> str:
    """``first`` (given name) and ``last`` (family name) in the order ``language`` (default: the active
    language) writes them: "Bùi Vi" in Vietnamese, "Vi Bùi" otherwise. Empty parts are left out."""
    language = language or translation.get_language() or ""
    parts = (last, first) if language.split("-")[0] == "vi" else (first, last)
    return " ".join(part.strip() for part in parts if part and part.strip())


def language_name(code: str | None, *, language: str | None = None) -> str:
    """The name of the language written ``code`` ("vi", "en", "zh-TW") in ``language`` (default: the active
    language), from CLDR: "Tiếng Việt" / "Vietnamese". Anything that is not a known code comes back as it is
    (a record's language is free text: an import may have stored "Tiếng Nhật")."""
    from babel import Locale, UnknownLocaleError

    if not code:
        return ""
    reader = (language or translation.get_language() or "vi").replace("-", "_")
    try:
        name = Locale.parse(code.strip().replace("-", "_")).get_display_name(reader)
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:] if name else code

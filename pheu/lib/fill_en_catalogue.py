"""Fill the English catalogue: source strings are English, so each translation is its own msgid.

Run after `pheu makemessages -l en`; plural entries get the singular and plural forms.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def main() -> None:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        message.string = tuple(message.id) if message.pluralizable else message.id
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalog, width=110)


if __name__ == "__main__":
    main()

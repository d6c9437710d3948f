"""Fill the English catalogue: source strings are English, so each translation is its own msgid.

Run after `pheu makemessages -l en`; plural entries get the singular and plural forms.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def main() -> None:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    # A header of our own (makemessages leaves a fuzzy template header, which msgfmt refuses).
    catalog.locale = Locale.parse("en")
    catalog.fuzzy = False
    catalog.project, catalog.version = "Pheu", ""
    catalog.revision_date = catalog.creation_date
    catalog.last_translator = catalog.language_team = "Pheu contributors"
    catalog.header_comment = (
        "# English catalogue of Pheu: source strings are English, so each is its own translation."
    )
    for message in catalog:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        message.string = tuple(message.id) if message.pluralizable else message.id
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalog, width=110)


if __name__ == "__main__":
    main()

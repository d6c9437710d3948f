"""The ``pheu`` console script: Django's manage.py plus Pheu's own commands (demo, serve, worker…).

Messages come in the language of ``pheu --lang vi|en COMMAND …`` (before the command: some commands, such
as ``spectacular``, have a ``--lang`` of their own), else of the environment's locale (``LC_ALL``, then
``LC_MESSAGES``, then ``LANG``, as other command-line programs read it: ``LANG=en_US.UTF-8``), else
Vietnamese, Pheu's default. A locale in neither of Pheu's languages (``C``, ``fr_FR``) keeps the default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

LANGUAGE_CODES = ("vi", "en")


def _language_of(locale_name: str) -> str | None:
    """``en_US.UTF-8`` → ``en``; None for a locale Pheu has no catalogue for."""
    code = locale_name.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGE_CODES else None


def cli_language(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The language the command asks for and the arguments without Pheu's own ``--lang``. None: no choice
    (the settings' default applies). An unknown ``--lang`` value stops with a message naming it."""
    args = list(argv)
    if args and (args[0] == "--lang" or args[0].startswith("--lang=")):
        value = args[0].partition("=")[2] if "=" in args[0] else (args[1] if len(args) > 1 else "")
        del args[: 1 if "=" in args[0] else 2]
        language = _language_of(value)
        if language is None:
            raise SystemExit(f"pheu: --lang {value!r}: expected one of {', '.join(LANGUAGE_CODES)}")
        return language, args
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if value:  # the first one set decides, as for every program (LC_ALL=C wins over LANG=en_US)
            return _language_of(value), args
    return None, args


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pheu.settings")
    language, args = cli_language(sys.argv[1:] if argv is None else argv, os.environ)
    from django.core.management import execute_from_command_line

    if language is not None:
        import django
        from django.utils import translation

        django.setup()
        translation.activate(language)
    execute_from_command_line(["pheu", *args])


if __name__ == "__main__":
    main()

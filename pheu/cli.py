"""The ``pheu`` console script: Django's manage.py plus Pheu's own commands (demo, serve, worker…)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pheu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pheu", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()

"""``pheu unmerge MERGE_ID``: undo a merge — every record, field, link and history entry as before."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.exceptions import PheuError
from pheu.core.management import lazy_help
from pheu.leads.services.merge import unmerge


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Undo a merge (its id is printed by `pheu merge` and shown on the survivor's page).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("merge_id", type=int, help=lazy_help(gettext_lazy("The merge's id.")))

    def handle(self, *args: Any, merge_id: int, **options: Any) -> None:
        try:
            result = unmerge(actor=None, merge_id=merge_id)
        except PheuError as exc:
            raise CommandError(exc.message or str(exc)) from exc
        self.stdout.write(
            _("Merge #%(merge)s undone: records %(ids)s restored.")
            % {"merge": merge_id, "ids": ", ".join(f"#{pk}" for pk in result.lead_ids)}
        )
        if result.kept_fields:
            self.stderr.write(
                _("Edited since the merge, kept: %(fields)s.") % {"fields": ", ".join(result.kept_fields)}
            )

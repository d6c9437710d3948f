"""``pheu report_summaries [--rebuild]``: fold the reports' summary rows now, or count them afresh.

The worker folds them every few minutes; ``--rebuild`` is for after data was loaded with triggers off (a
restore with ``session_replication_role = replica``, for instance) or a change of ``TIME_ZONE`` (the
triggers are written again).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pheu.reports import agenda, firsts, summaries


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("Fold the reports' summary rows, or rebuild them from the records.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help=_("Write the triggers again and count the summaries afresh from the records."),
        )

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        for kept in (firsts, agenda):
            if kept.ensure_triggers():
                self.stdout.write(_("The triggers were missing: installed, and the summaries rebuilt."))
            elif rebuild:
                kept.reinstall()
        if summaries.ensure_triggers():
            self.stdout.write(_("The triggers were missing: installed, and the summaries rebuilt."))
        elif rebuild:
            summaries.reinstall()
            self.stdout.write(_("Summaries rebuilt from the records."))
        else:
            removed = summaries.compact() + agenda.compact()
            self.stdout.write(
                ngettext("%(removed)s row folded.", "%(removed)s rows folded.", removed)
                % {"removed": removed}
            )

"""``pheu pipeline_totals [--rebuild]``: fold the pipeline's running totals now, or count them afresh.

The worker folds them every few minutes; ``--rebuild`` is for after data was loaded with triggers off (a
restore with ``session_replication_role = replica``, for instance).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pheu.core.management import lazy_help
from pheu.leads import totals
from pheu.leads.models import PipelineTotal


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _(
            "Fold the pipeline's running totals (the kanban's column sums), or rebuild them from the records."
        )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help=lazy_help(gettext_lazy("Count the totals afresh from the records instead of folding them.")),
        )

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        if totals.ensure_triggers():
            self.stdout.write(_("The triggers were missing: installed, and the totals rebuilt."))
        elif rebuild:
            totals.rebuild()
            self.stdout.write(_("Totals rebuilt from the records."))
        else:
            removed = totals.compact()
            self.stdout.write(
                ngettext("%(removed)s row folded.", "%(removed)s rows folded.", removed)
                % {"removed": removed}
            )
        rows = PipelineTotal.objects.count()
        self.stdout.write(
            ngettext("%(rows)s row of totals.", "%(rows)s rows of totals.", rows) % {"rows": rows}
        )

"""``pheu merge ID ID… [--confirm-different-customers] [--json]``: merge records into the most trustworthy.

Run by an operator as the system (no user's permissions). Prints the survivor and the merge id (to undo it
with ``pheu unmerge``); a refusal exits non-zero naming the cause.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.exceptions import PheuError
from pheu.core.management import lazy_help
from pheu.leads.models import Lead
from pheu.leads.services.merge import merge_leads, merge_warnings


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Merge two or more leads/opportunities; nothing is lost and `pheu unmerge` undoes it.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ids", nargs="+", type=int, help=lazy_help(gettext_lazy("The records' ids.")))
        parser.add_argument(
            "--confirm-different-customers",
            action="store_true",
            help=lazy_help(gettext_lazy("Merge even if the records belong to different customers.")),
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )

    def handle(
        self, *args: Any, ids: list[int], confirm_different_customers: bool, as_json: bool, **options: Any
    ) -> None:
        try:
            merge = merge_leads(
                actor=None,
                leads=[Lead(pk=pk) for pk in ids],
                confirm_different_customers=confirm_different_customers,
            )
        except PheuError as exc:
            raise CommandError(exc.message or str(exc)) from exc
        warnings = [w.message() for w in merge_warnings(merge)]
        if as_json:
            data = {"merge_id": merge.pk, "survivor": merge.survivor_id, "merged_ids": merge.merged_ids}
            self.stdout.write(json.dumps({**data, "warnings": warnings}, ensure_ascii=False))
            return
        for warning in warnings:
            self.stderr.write(warning)
        undo = _("Undo with: pheu unmerge %(merge)s") % {"merge": merge.pk}
        self.stdout.write(
            _("Merged %(ids)s into #%(survivor)s “%(name)s” (merge #%(merge)s).")
            % {
                "ids": ", ".join(f"#{pk}" for pk in merge.merged_ids),
                "survivor": merge.survivor_id,
                "name": merge.survivor.name,
                "merge": merge.pk,
            }
        )
        self.stdout.write(undo)

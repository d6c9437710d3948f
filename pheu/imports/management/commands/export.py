"""``pheu export leads FILE [--domain '…'] [--all]``: every active lead (or those a rule selects) to a
CSV or XLSX file (by its extension), with headers in the installation's language; it imports back."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.management import lazy_help
from pheu.imports import exports
from pheu.leads.models import Lead
from pheu.rules import DomainError, clean_domain


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("Export leads and opportunities to a CSV or XLSX file.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("what", choices=["leads"])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--domain", default="", help=lazy_help(gettext_lazy("A rule selecting the records."))
        )
        parser.add_argument(
            "--all",
            dest="everything",
            action="store_true",
            help=lazy_help(gettext_lazy("Include lost and merged-away records.")),
        )

    def handle(
        self, *args: Any, what: str, file: Path, domain: str, everything: bool, **options: Any
    ) -> None:
        suffix = file.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise CommandError(_("%(file)s: the file name must end in .csv or .xlsx.") % {"file": file})
        try:
            clean = clean_domain(domain, "lead")
        except DomainError as exc:
            raise CommandError("\n".join([_("The rule cannot be used:"), *exc.messages])) from exc
        leads = Lead.objects.all() if everything else Lead.objects.active()
        leads = leads.matching(clean.domain).order_by("-created_at", "-id")
        try:
            if suffix == ".csv":
                with open(file, "w", encoding="utf-8", newline="") as out:
                    count = exports.write_csv(leads, out)
            else:
                with open(file, "wb") as out:
                    count = exports.write_xlsx(leads, out)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        self.stdout.write(_("%(n)s records written to %(file)s.") % {"n": count, "file": file})

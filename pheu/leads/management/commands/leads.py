"""``pheu leads --domain '…' [--count] [--json] [--limit N]``: the active leads a rule selects.

Run by an operator, so it sees every record (no user's visibility applies). A domain that cannot be read
is a non-zero exit with one line per problem.
"""

from __future__ import annotations

import io
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.table import Table

from pheu.core.management import lazy_help
from pheu.leads.models import Lead
from pheu.rules import DomainError, clean_domain


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("List the active leads and opportunities that a rule selects.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--domain",
            default="",
            help=lazy_help(
                gettext_lazy(
                    "The rule, as JSON or a Python literal, e.g. \"[['country_id', 'in', ['Vietnam']]]\" "
                    "(default: every record)."
                )
            ),
        )
        parser.add_argument(
            "--count", action="store_true", help=lazy_help(gettext_lazy("Print only the number."))
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=50,
            help=lazy_help(gettext_lazy("Most records listed (default: 50).")),
        )

    def handle(self, *args: Any, domain: str, count: bool, as_json: bool, limit: int, **options: Any) -> None:
        if limit < 0:
            raise CommandError(_("--limit must be 0 or more, not %(n)s.") % {"n": limit})
        try:
            clean = clean_domain(domain, "lead")
        except DomainError as exc:
            raise CommandError("\n".join([_("The rule cannot be used:"), *exc.messages])) from exc
        matching = Lead.objects.active().matching(clean.domain)
        total = matching.count()
        if count:
            self.stdout.write(_dumps({"count": total}) if as_json else str(total))
            return
        rows = [_row(lead) for lead in matching.for_list().with_score().order_by("-id")[:limit]]
        if as_json:
            self.stdout.write(_dumps({"count": total, "domain": clean.canonical_list(), "leads": rows}))
        else:
            self.stdout.write(self.render(rows, total), ending="")

    def render(self, rows: list[dict[str, Any]], total: int) -> str:
        table = Table(title=_("%(shown)s of %(total)s records") % {"shown": len(rows), "total": total})
        headings = (_("ID"), _("Name"), _("Company"), _("Country"), _("Team"), _("Salesperson"), _("Score"))
        for heading in headings:
            table.add_column(heading)
        for row in rows:
            table.add_row(*("" if value is None else str(value) for value in row.values()))
        buffer = io.StringIO()
        Console(file=buffer, force_terminal=self.stdout.isatty(), width=140).print(table)
        return buffer.getvalue()


def _row(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "name": lead.name,
        "company": lead.company_name,
        "country": lead.country.code if lead.country else None,
        "team": lead.team.name if lead.team else None,
        "salesperson": lead.user.display_name if lead.user else None,
        "score": lead.score,
    }


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)

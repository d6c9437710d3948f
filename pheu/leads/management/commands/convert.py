"""``pheu convert ID… [--team T] [--user U] [--customer create|link|none] [--partner P]
[--merge-duplicates]``: convert leads into opportunities.

Run by an operator as the system. Each lead is converted in its own transaction; a refusal names the lead and
the cause and the command exits non-zero after trying the others.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.contacts.models import Partner
from pheu.core.exceptions import PheuError
from pheu.core.management import lazy_help
from pheu.leads.duplicates import find_duplicates
from pheu.leads.models import Lead
from pheu.leads.services.convert import CustomerChoice, convert_lead
from pheu.teams.models import Team


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Convert leads into opportunities.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ids", nargs="+", type=int, help=lazy_help(gettext_lazy("The leads' ids.")))
        parser.add_argument("--team", help=lazy_help(gettext_lazy("Team id or name (default: the lead's).")))
        parser.add_argument(
            "--user", help=lazy_help(gettext_lazy("Salesperson's username (default: the lead's)."))
        )
        parser.add_argument(
            "--customer", choices=[c.value for c in CustomerChoice], default=CustomerChoice.NONE.value
        )
        parser.add_argument(
            "--partner", type=int, help=lazy_help(gettext_lazy("Customer id, with --customer link."))
        )
        parser.add_argument(
            "--merge-duplicates",
            action="store_true",
            help=lazy_help(gettext_lazy('Merge the duplicates at the "propose merge" threshold with it.')),
        )

    def handle(self, *args: Any, ids: list[int], **options: Any) -> None:
        team = self._team(options["team"])
        user = self._user(options["user"])
        partner = None
        if options["partner"] is not None:
            partner = Partner.objects.filter(pk=options["partner"]).first()
            if partner is None:
                raise CommandError(_("Unknown customer: #%(id)s.") % {"id": options["partner"]})
        failures = 0
        for pk in ids:
            lead = Lead.objects.filter(pk=pk).first()
            if lead is None:
                self.stderr.write(_("#%(id)s: unknown record.") % {"id": pk})
                failures += 1
                continue
            merge = []
            if options["merge_duplicates"]:
                # Those at the "propose merge" threshold (never a lost record), as the convert page ticks.
                merge = [Lead(pk=m.lead_id) for m in find_duplicates(lead) if m.propose]
            try:
                result = convert_lead(
                    actor=None,
                    lead=lead,
                    team=team,
                    user=user,
                    customer=options["customer"],
                    partner=partner,
                    merge=merge,
                )
            except PheuError as exc:
                self.stderr.write(f"#{pk}: {exc}")
                failures += 1
                continue
            self.stdout.write(
                _("#%(id)s converted: opportunity #%(result)s.") % {"id": pk, "result": result.pk}
            )
        if failures:
            raise CommandError(_("%(n)s of %(total)s not converted.") % {"n": failures, "total": len(ids)})

    def _team(self, text: str | None) -> Team | None:
        if not text:
            return None
        team = (
            Team.objects.filter(pk=int(text)).first()
            if text.isdigit()
            else Team.objects.filter(name=text).first()
        )
        if team is None:
            raise CommandError(_("Unknown team: %(team)s.") % {"team": text})
        return team

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("Unknown user: %(user)s.") % {"user": username})
        return user

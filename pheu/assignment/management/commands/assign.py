"""``pheu assign [--dry-run] [--explain] [--json] [--team T]``: run the automatic assignment now.

Also ``--redistribute`` (the untouched leads of away members go to their teammates) and
``--away USERNAME --team T --from DATE [--until DATE]`` / ``--back USERNAME --team T`` (availability).
Run by an operator for the installation (no user's permission applies). Errors exit non-zero, named.
"""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.table import Table

from pheu.assignment.models import AssignmentTrigger
from pheu.assignment.services import AssignmentResult, assign_leads, redistribute_leads
from pheu.core.exceptions import PheuError
from pheu.core.management import lazy_help
from pheu.leads.models import Lead
from pheu.teams.models import Team, TeamMember
from pheu.teams.services import set_member_away


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from exc


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Assign the waiting leads to teams and salespeople now (or say what it would do).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=lazy_help(gettext_lazy("Write nothing.")))
        parser.add_argument(
            "--explain", action="store_true", help=lazy_help(gettext_lazy("One line per lead: why."))
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )
        parser.add_argument("--team", help=lazy_help(gettext_lazy("Only this team (name or id).")))
        parser.add_argument(
            "--redistribute",
            action="store_true",
            help=lazy_help(gettext_lazy("Give the untouched leads of away members to their teammates.")),
        )
        parser.add_argument(
            "--away", metavar="USERNAME", help=lazy_help(gettext_lazy("Mark a member of --team away."))
        )
        parser.add_argument(
            "--back", metavar="USERNAME", help=lazy_help(gettext_lazy("Mark a member of --team back."))
        )
        parser.add_argument(
            "--from", dest="away_from", help=lazy_help(gettext_lazy("First day away (YYYY-MM-DD)."))
        )
        parser.add_argument(
            "--until", dest="away_until", help=lazy_help(gettext_lazy("Last day away (YYYY-MM-DD)."))
        )

    def _team(self, value: str | None) -> Team | None:
        if not value:
            return None
        team = Team.objects.filter(pk=int(value)).first() if value.isdigit() else None
        team = team or Team.objects.filter(name__iexact=value.strip()).first()
        if team is None:
            raise CommandError(_("No team named or numbered “%(team)s”.") % {"team": value})
        return team

    def handle(self, *args: Any, **options: Any) -> None:
        team = self._team(options["team"])
        try:
            if options["away"] or options["back"]:
                self._availability(team, options)
                return
            if options["redistribute"]:
                result = redistribute_leads(actor=None, team=team, dry_run=options["dry_run"])
            else:
                result = assign_leads(
                    actor=None, team=team, dry_run=options["dry_run"], trigger=AssignmentTrigger.CLI
                )
        except PheuError as exc:
            raise CommandError(str(exc)) from exc
        self._print(result, explain=options["explain"], as_json=options["as_json"])

    def _availability(self, team: Team | None, options: dict[str, Any]) -> None:
        username = options["away"] or options["back"]
        if team is None:
            raise CommandError(_("Give the member's team with --team."))
        member = TeamMember.objects.filter(team=team, user__username=username).first()
        if member is None:
            raise CommandError(_("%(user)s is not a member of %(team)s.") % {"user": username, "team": team})
        start: dt.date | None
        end: dt.date | None
        if options["away"]:
            start = _date(options["away_from"]) if options["away_from"] else dt.date.today()
            end = _date(options["away_until"]) if options["away_until"] else None
        else:
            start = end = None
        set_member_away(actor=None, member=member, away_from=start, away_until=end)
        self.stdout.write(
            _("%(member)s: away from %(start)s to %(end)s.")
            % {"member": member, "start": start or "-", "end": end or "-"}
            if start
            else _("%(member)s is back.") % {"member": member}
        )

    def _print(self, result: AssignmentResult, *, explain: bool, as_json: bool) -> None:
        if as_json:
            data = result.as_dict()
            if explain:
                data["decisions"] = [d.as_dict() for d in result.decisions]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        console = Console(file=self.stdout, soft_wrap=True)  # type: ignore[arg-type]  # a TextIOBase; rich wants IO
        title = (
            _("Dry run: nothing written.") if result.dry_run else _("Run #%(run)s.") % {"run": result.run_id}
        )
        console.print(title)
        console.print(
            _(
                "%(considered)s leads considered, %(teamed)s given a team, %(assigned)s given a salesperson, "
                "%(converted)s converted."
            )
            % {
                "considered": result.considered,
                "teamed": result.teamed,
                "assigned": result.assigned,
                "converted": result.converted,
            }
        )
        table = Table(_("Team / salesperson"), _("Leads"))
        for pk, count in sorted(result.team_counts.items()):
            table.add_row(result.team_names.get(pk, str(pk)), str(count))
        for pk, count in sorted(result.member_counts.items()):
            table.add_row("  " + result.member_labels.get(pk, str(pk)), str(count))
        console.print(table)
        for text in result.broken_rules:
            console.print(_("This rule no longer reads and matched nothing: %(rule)s") % {"rule": text})
        if explain:
            names = dict(
                Lead.objects.filter(pk__in=[d.lead_id for d in result.decisions]).values_list("id", "name")
            )
            for d in result.decisions:
                console.print(f"#{d.lead_id} {names.get(d.lead_id, '')}: {self._why(d)}", markup=False)

    @staticmethod
    def _why(d: Any) -> str:
        if d.outcome == "no_team":
            return _("no team: no rule matches with score %(score)s reaching its minimum") % {
                "score": d.score
            }
        if d.outcome == "other_team":
            return _("left for team %(team)s") % {"team": d.team_name or d.team_id}
        parts = [_("team %(team)s") % {"team": d.team_name}]
        if d.team_chosen:
            parts.append(
                _("rule %(rule)s, score %(score)s ≥ %(min)s")
                % {"rule": d.team_rule or _("(all leads)"), "score": d.score, "min": d.min_score}
            )
        if d.user_id:
            parts.append(
                _("salesperson %(user)s (rule %(rule)s, %(left)s of %(capacity)s left)")
                % {
                    "user": d.user_label,
                    "rule": d.member_rule or _("(none)"),
                    "left": d.capacity_left,
                    "capacity": d.capacity,
                }
            )
        else:
            parts.append(_("no member can take it now"))
        if d.converted:
            parts.append(_("converted to an opportunity"))
        return "; ".join(parts)

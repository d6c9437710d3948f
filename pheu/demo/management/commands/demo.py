"""``pheu demo``: load the demo data (see ``pheu.demo.services``)."""

from __future__ import annotations

import io
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.table import Table

from pheu.core.management import lazy_help
from pheu.demo.exceptions import DemoError
from pheu.demo.services import ADMIN_USERNAME, DemoSummary, demo_loaded, load_demo


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Load demo users, teams, pipeline, customers and leads (Vietnamese and English).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--leads",
            type=int,
            default=200,
            help=lazy_help(gettext_lazy("Number of leads and opportunities (default: 200).")),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help=lazy_help(gettext_lazy("Random seed: the same seed gives the same data (default: 0).")),
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help=lazy_help(gettext_lazy("Do nothing if the demo data is already loaded.")),
        )

    def handle(self, *args: Any, leads: int, seed: int, once: bool, **options: Any) -> None:
        if once and demo_loaded():
            self.stdout.write(
                _("The demo data is already loaded (user “%(user)s” exists): nothing to do.")
                % {"user": ADMIN_USERNAME}
            )
            return
        started = time.perf_counter()
        try:
            summary = load_demo(leads=leads, seed=seed)
        except DemoError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.render(summary, seconds=time.perf_counter() - started), ending="")

    def render(self, summary: DemoSummary, *, seconds: float) -> str:
        done = _(
            "Demo data loaded in %(seconds).1f s: %(leads)s leads (%(opportunities)s opportunities, "
            "%(won)s won, %(lost)s lost, %(unassigned)s unassigned), "
            "%(customers)s customers, %(teams)s teams."
        ) % {
            "seconds": seconds,
            "leads": summary.leads,
            "opportunities": summary.opportunities,
            "won": summary.won,
            "lost": summary.lost,
            "unassigned": summary.unassigned,
            "customers": summary.customers,
            "teams": summary.teams,
        }
        table = Table(title=_("Demo logins"))
        for heading in (_("User name"), _("Password"), _("Role"), _("Name"), _("Teams")):
            table.add_column(heading)
        for user in summary.users:
            table.add_row(user.username, summary.password, user.role, user.name, ", ".join(user.teams))
        buffer = io.StringIO()
        Console(file=buffer, force_terminal=self.stdout.isatty(), width=110).print(table)
        return f"{done}\n{buffer.getvalue()}"

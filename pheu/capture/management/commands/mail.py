"""``pheu mail fetch [--mailbox ID] [--json]``: fetch the IMAP mailboxes once (what ``pheu worker`` does on
its schedule). ``pheu mail import FILE.eml… [--team ID] [--json]``: make leads of saved e-mails.

A mailbox that reports a problem, or a file that cannot be imported, makes the command exit non-zero with a
message naming the mailbox or the file; the other mailboxes and files are still done.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.capture.models import Mailbox
from pheu.capture.services import fetch_mailboxes, import_message
from pheu.core.exceptions import PheuError
from pheu.core.management import lazy_help
from pheu.teams.models import Team


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Fetch the mailboxes once, or import .eml files, as leads.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fetch = sub.add_parser("fetch", help=lazy_help(gettext_lazy("Fetch the active mailboxes once.")))
        fetch.add_argument(
            "--mailbox", type=int, action="append", help=lazy_help(gettext_lazy("Only this mailbox (id)."))
        )
        fetch.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )
        eml = sub.add_parser("import", help=lazy_help(gettext_lazy("Import .eml files.")))
        eml.add_argument("files", nargs="+", type=Path)
        eml.add_argument("--team", type=int, help=lazy_help(gettext_lazy("Team of the new leads (id).")))
        eml.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "fetch":
            self.fetch(options["mailbox"], options["as_json"])
        else:
            self.import_files(options["files"], options["team"], options["as_json"])

    def fetch(self, ids: list[int] | None, as_json: bool) -> None:
        if ids:
            missing = sorted(set(ids) - set(Mailbox.objects.filter(pk__in=ids).values_list("pk", flat=True)))
            if missing:
                raise CommandError(_("No mailbox with id %(ids)s.") % {"ids": ", ".join(map(str, missing))})
        results = fetch_mailboxes(mailbox_ids=ids)
        if as_json:
            self.stdout.write(_dumps({"mailboxes": [result.as_dict() for result in results]}))
        else:
            for result in results:
                self.stdout.write(
                    _("%(name)s: %(new)d new leads, %(replies)d replies, %(failed)d failed.")
                    % {
                        "name": result.mailbox,
                        "new": result.new_leads,
                        "replies": result.replies,
                        "failed": result.failed,
                    }
                )
        failing = [result for result in results if not result.ok]
        if failing:
            raise CommandError(
                "\n".join(
                    f"{result.mailbox} (id {result.mailbox_id}): {'; '.join(result.errors)}"
                    for result in failing
                )
            )

    def import_files(self, files: list[Path], team_id: int | None, as_json: bool) -> None:
        team = None
        if team_id is not None:
            team = Team.objects.filter(pk=team_id).first()
            if team is None:
                raise CommandError(_("No team with id %(id)s.") % {"id": team_id})
        rows, problems = [], []
        for path in files:
            try:
                result = import_message(raw=path.read_bytes(), team=team)
            except (OSError, PheuError) as exc:
                problems.append(f"{path}: {exc}")
                continue
            rows.append(
                {
                    "file": str(path),
                    "lead": result.lead.pk,
                    "created": result.created,
                    "reply": result.reply,
                    "duplicate": result.duplicate,
                }
            )
        if as_json:
            self.stdout.write(_dumps({"imported": rows}))
        else:
            for row in rows:
                self.stdout.write(_("%(file)s: lead %(lead)s") % {"file": row["file"], "lead": row["lead"]})
        if problems:
            raise CommandError("\n".join(problems))

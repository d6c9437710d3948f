"""``pheu import leads|opportunities FILE [--dry-run] [--atomic] [--team T] [--json]``.

Run by an operator (no user's permissions apply; the records have no author). Rows with errors are listed
as ``FILE, row N, column “C”: reason`` and make the exit status non-zero (1), as does a file that cannot be
read or a failed import (nothing is then written).
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pheu.core.management import lazy_help
from pheu.imports.choices import ImportKind, ImportStatus, IssueLevel
from pheu.imports.exceptions import ImportsError
from pheu.imports.services import PHASES, Counters, import_file, progress_text, unmapped_columns
from pheu.lib.text import text_key
from pheu.teams.models import Team

SHOWN_ISSUES = 50


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("Import leads or opportunities from a CSV or XLSX file.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", choices=[k.value for k in ImportKind])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help=lazy_help(gettext_lazy("Check everything, write nothing."))
        )
        parser.add_argument(
            "--atomic",
            action="store_true",
            help=lazy_help(gettext_lazy("Import nothing if any row has an error.")),
        )
        parser.add_argument(
            "--team", default="", help=lazy_help(gettext_lazy("Sales team (name or id) of rows without one."))
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )

    def handle(
        self,
        *args: Any,
        kind: str,
        file: Path,
        dry_run: bool,
        atomic: bool,
        team: str,
        as_json: bool,
        **options: Any,
    ) -> None:
        default_team = self.team(team) if team else None
        show = not as_json and self.stdout.isatty()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[figures]}"),
            TimeElapsedColumn(),
            disable=not show,
            transient=True,
        ) as bar:
            task = bar.add_task(str(file.name), total=None, figures="")

            def progress(counters: Counters) -> None:
                bar.update(
                    task,
                    description=f"{file.name}: {PHASES.get(counters.phase, counters.phase)}",
                    completed=counters.rows,
                    total=counters.total or None,
                    figures=progress_text(counters),
                )

            try:
                run = import_file(
                    actor=None,
                    path=file,
                    kind=kind,
                    team=default_team,
                    dry_run=dry_run,
                    atomic=atomic,
                    progress=progress,
                )
            except ImportsError as exc:
                messages = [m for ms in exc.field_errors.values() for m in ms] or [exc.message]
                raise CommandError("\n".join(f"{file}: {m}" for m in messages)) from exc
        issues = list(run.issues.all()[:SHOWN_ISSUES])
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "id": run.pk,
                        "status": run.status,
                        "dry_run": run.dry_run,
                        "rows": run.total_rows,
                        "created": run.created_count,
                        "updated": run.updated_count,
                        "errors": run.error_count,
                        "warnings": run.warning_count,
                        "duplicates": run.duplicate_count,
                        "message": run.message,
                        "not_imported": unmapped_columns(run),
                        "issues": [
                            {
                                "level": i.level,
                                "row": i.row,
                                "column": i.column,
                                "value": i.value,
                                "reason": i.reason,
                            }
                            for i in issues
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            for issue in issues:
                line = (
                    _("%(file)s, row %(row)s, column “%(column)s”: warning: %(reason)s (value: “%(value)s”)")
                    if issue.level == IssueLevel.WARNING
                    else _("%(file)s, row %(row)s, column “%(column)s”: %(reason)s (value: “%(value)s”)")
                )
                self.stderr.write(
                    line
                    % {
                        "file": file,
                        "row": issue.row,
                        "column": issue.column,
                        "reason": issue.reason,
                        "value": issue.value,
                    }
                )
            if run.issues.count() > len(issues):
                self.stderr.write(
                    _("… and more: %(errors)s rows with errors and %(warnings)s with warnings in all.")
                    % {"errors": run.error_count, "warnings": run.warning_count}
                )
            self.stdout.write(
                _(
                    "Import #%(id)s%(dry)s: %(rows)s rows, %(created)s created, %(updated)s updated, "
                    "%(errors)s with errors, %(warnings)s with warnings, %(duplicates)s possible duplicates."
                )
                % {
                    "id": run.pk,
                    "dry": _(" (dry run, nothing written)") if run.dry_run else "",
                    "rows": run.total_rows,
                    "created": run.created_count,
                    "updated": run.updated_count,
                    "errors": run.error_count,
                    "warnings": run.warning_count,
                    "duplicates": run.duplicate_count,
                }
            )
            if not_imported := unmapped_columns(run):
                self.stdout.write(
                    _("Columns not imported (no field of that name): %(columns)s.")
                    % {"columns": ", ".join(not_imported)}
                )
        if run.status == ImportStatus.FAILED:
            raise CommandError(f"{file}: {run.message}")
        if run.error_count:
            if run.message and not as_json:
                self.stderr.write(run.message)
            raise CommandError(
                _("%(file)s: %(n)s rows could not be imported.") % {"file": file, "n": run.error_count},
                returncode=1,
            )

    def team(self, text: str) -> Team:
        teams = (
            Team.objects.filter(pk=int(text))
            if text.isdigit()
            else [t for t in Team.objects.all() if text_key(t.name) == text_key(text)]
        )
        if not teams:
            raise CommandError(_("No sales team “%(team)s”.") % {"team": text})
        return teams[0]
